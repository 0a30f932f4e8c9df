#!/usr/bin/env node
// Finds miniaudio.h for the native build, fetching it at build time when needed.
// Order: $MINIAUDIO_INCLUDE_DIR, the system include dirs, native/vendor/ (gitignored), and
// finally Debian's `libminiaudio-dev` package fetched with apt through a private sources dir
// (the machine's own apt configuration is never touched). Prints the include dir on stdout.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const vendorDir = join(root, 'native', 'vendor');
const MIN_VERSION = [0, 11, 0];
const SUITES = ['trixie', 'forky', 'sid'];
const MIRROR = process.env.MINIAUDIO_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

function log(message) {
  process.stderr.write(`[miniaudio] ${message}\n`);
}

/** Reads MA_VERSION_{MAJOR,MINOR,REVISION} from a header; null when it is not miniaudio. */
export function readVersion(headerPath) {
  const text = readFileSync(headerPath, 'latin1').slice(0, 400_000);
  const part = (name) => {
    const match = new RegExp(`#define\\s+MA_VERSION_${name}\\s+(\\d+)`).exec(text);
    return match ? Number(match[1]) : null;
  };
  const version = [part('MAJOR'), part('MINOR'), part('REVISION')];
  return version.includes(null) ? null : version;
}

function acceptable(dir) {
  const header = join(dir, 'miniaudio.h');
  if (!existsSync(header)) return null;
  const version = readVersion(header);
  if (!version) return null;
  for (let i = 0; i < 3; i++) {
    if (version[i] > MIN_VERSION[i]) break;
    if (version[i] < MIN_VERSION[i]) return null;
  }
  return version.join('.');
}

function candidates() {
  const list = [];
  if (process.env.MINIAUDIO_INCLUDE_DIR) list.push(['MINIAUDIO_INCLUDE_DIR', process.env.MINIAUDIO_INCLUDE_DIR]);
  for (const dir of ['/usr/include', '/usr/include/miniaudio', '/usr/local/include', '/usr/local/include/miniaudio',
    '/opt/homebrew/include', '/opt/homebrew/include/miniaudio']) {
    list.push(['system', dir]);
  }
  list.push(['vendored', vendorDir]);
  return list;
}

function hasCommand(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function fetchFromDebian() {
  const work = mkdtempSync(join(tmpdir(), 'vs-miniaudio-'));
  try {
    const sourcesDir = join(work, 'sources.list.d');
    const listsDir = join(work, 'lists');
    mkdirSync(join(listsDir, 'partial'), { recursive: true });
    mkdirSync(sourcesDir);
    mkdirSync(join(work, 'archives', 'partial'), { recursive: true });
    writeFileSync(join(sourcesDir, 'miniaudio.sources'),
      `Types: deb\nURIs: ${MIRROR}\nSuites: ${SUITES.join(' ')}\nComponents: main\n` +
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n');
    const aptOptions = [
      '-o', 'Dir::Etc::SourceList=/dev/null',
      '-o', `Dir::Etc::SourceParts=${sourcesDir}`,
      '-o', `Dir::State::Lists=${listsDir}`,
      '-o', `Dir::Cache::Archives=${join(work, 'archives')}`,
      '-o', 'Debug::NoLocking=1',
      '-o', 'APT::Sandbox::User=root',
      '-o', 'Acquire::Languages=none',
      '-o', 'Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false',
      '-q',
    ];
    log(`fetching libminiaudio-dev from Debian (${SUITES.join(', ')})...`);
    execFileSync('apt-get', [...aptOptions, 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', [...aptOptions, 'download', 'libminiaudio-dev'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const deb = readdirSync(work).find((name) => name.startsWith('libminiaudio-dev') && name.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download produced no libminiaudio-dev .deb');
    const extracted = join(work, 'extracted');
    execFileSync('dpkg-deb', ['-x', join(work, deb), extracted]);
    const found = [join(extracted, 'usr', 'include'), join(extracted, 'usr', 'include', 'miniaudio')]
      .find((dir) => acceptable(dir));
    if (!found) throw new Error(`${deb} holds no usable miniaudio.h (version >= ${MIN_VERSION.join('.')})`);
    mkdirSync(vendorDir, { recursive: true });
    copyFileSync(join(found, 'miniaudio.h'), join(vendorDir, 'miniaudio.h'));
    writeFileSync(join(vendorDir, 'SOURCE'), `${deb} from ${MIRROR}\n`);
    return acceptable(vendorDir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function findMiniaudio() {
  for (const [origin, dir] of candidates()) {
    const version = acceptable(dir);
    if (version) return { dir, version, origin };
  }
  if (hasCommand('apt-get') && hasCommand('dpkg-deb')) {
    const version = fetchFromDebian();
    if (version) return { dir: vendorDir, version, origin: 'debian package' };
  }
  return null;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let result = null;
  let failure = null;
  try {
    result = findMiniaudio();
  } catch (error) {
    failure = error;
  }
  if (!result) {
    log('miniaudio.h (>= 0.11) was not found and could not be fetched' + (failure ? `: ${failure.message}` : '.'));
    log('Provide it one of three ways, then run `npm install` again:');
    log('  1. set MINIAUDIO_INCLUDE_DIR to the folder that holds miniaudio.h');
    log('  2. install the system package: `apt install libminiaudio-dev` (Debian 13+/Ubuntu 24.04+) or `brew install miniaudio`');
    log(`  3. copy miniaudio.h into ${vendorDir}`);
    process.exit(1);
  }
  log(`using miniaudio ${result.version} (${result.origin}) from ${result.dir}`);
  process.stdout.write(`${result.dir}\n`);
}
