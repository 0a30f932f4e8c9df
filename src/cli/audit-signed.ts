/**
 * The signed side of `voice-soundboard audit`: `verify --public-key` (the log's signed checkpoints,
 * and a snapshot's signature), `replay --public-key` (replays only a log whose checkpoints hold, and
 * a snapshot signed by that key) and `public-key <private-key.pem>` (prints the public key auditors
 * verify with). Bad key files are InputErrors (the audit command turns them into exit 2).
 */
import { loadVerifyingKeyFile, publicKeyPemOf, type VerifyingKey } from '../attestation/signing.js';
import { verifyLog, type LogProblem, type LogVerifyReport } from '../attestation/verify-log.js';
import { RegistrarReplayError } from '../registrar/errors.js';
import { checkSignedSnapshot } from '../registrar/snapshot-signature.js';

/** The audit flags of the signed checks. */
export const SIGNED_OPTIONS = {
  'public-key': { type: 'string' },
  checkpoints: { type: 'string' },
  anchor: { type: 'string' },
} as const;

/** Help text lines of the signed flags and subcommand. */
export const SIGNED_HELP = {
  subcommand: `  public-key <private-key.pem>
                 print the public key (PEM) of a signing key: what auditors verify with`,
  options: `  --public-key <file>  verify/replay: the Ed25519 public key (PEM) the log's checkpoints
                       (<log>.checkpoints) and the snapshot must be signed with
  --checkpoints <file> verify/replay: the checkpoint file (default <log>.checkpoints)
  --anchor <file>      verify/replay: an anchor file of the same checkpoints, checked too`,
};

/** What the flags of one signed check say. */
export interface SignedFlags {
  publicKeyFile: string;
  checkpointFile: string | undefined;
  anchorFile: string | undefined;
}

/** What the signed checks of one log found. */
export interface SignedCheck {
  key: VerifyingKey;
  report: LogVerifyReport;
  /** The checkpoint (and snapshot signature) problems; the chain's are the structural verify's. */
  problems: LogProblem[];
}

/** Checks a log's checkpoints, and a snapshot's signature when one is given. Throws InputError for an unreadable key. */
export function checkSigned(path: string, flags: SignedFlags, start: { seq: number; hash: string } | undefined, snapshot: unknown): SignedCheck {
  const key = loadVerifyingKeyFile(flags.publicKeyFile, '--public-key');
  const report = verifyLog(path, {
    publicKey: key.publicKey,
    ...(start ? { start } : {}),
    ...(flags.checkpointFile !== undefined ? { checkpointFile: flags.checkpointFile } : {}),
    ...(flags.anchorFile !== undefined ? { anchorFile: flags.anchorFile } : {}),
  });
  const problems = report.errors.filter((problem) => problem.invariant.startsWith('checkpoint.'));
  if (snapshot !== undefined) {
    try {
      checkSignedSnapshot(snapshot, key.publicKey, '--public-key');
    } catch (error) {
      if (!(error instanceof RegistrarReplayError)) throw error;
      problems.push({ seq: 0, invariant: 'snapshot.signature', message: `${error.code}: ${error.message}` });
    }
  }
  return { key, report, problems };
}

/** Human lines about what the checkpoints vouch for. */
export function signedSummary(check: SignedCheck): string[] {
  const signature = check.report.signature;
  if (!signature) return [];
  const lines = [
    `signed: ${signature.checkpoints} checkpoint(s) by key ${check.key.keyId.slice(0, 16)}…, vouching through ${signature.signedThroughSeq === null ? 'no seq' : `seq ${signature.signedThroughSeq}`}`,
  ];
  if (signature.unsignedTail) {
    lines.push(`note: unsigned tail: seqs ${signature.unsignedTail.fromSeq}..${signature.unsignedTail.toSeq} (written after the last checkpoint; nothing vouches for them)`);
  }
  for (const warning of check.report.warnings) lines.push(`warn   seq ${warning.seq}  ${warning.invariant}: ${warning.message}`);
  return lines;
}

/** `audit public-key <private-key.pem>`: the public key of a signing key, as PEM. Throws InputError / ATTESTATION_KEY_PERMISSIONS. */
export function publicKeyOfFile(privateKeyFile: string): string {
  return publicKeyPemOf({ privateKeyFile });
}
