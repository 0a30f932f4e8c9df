// The attestation log's one-call durable append (`fsync` mode, src/attestation/durable-log.ts):
// appendSealedLine(fd, head, tail, out) takes a record's canonical text in its two halves around
// the "hash" key (src/attestation/record-text.ts), hashes `head + tail` (SHA-256 of its UTF-8, by
// the OpenSSL of the node binary, found at run time: native/core/process_sha256.h), writes the
// log line `head,"hash":"<hex>"tail\n` and fdatasyncs it (native/core/durable_append.h), in one
// call: the cold code between a request and its write is the acknowledgement's cost over the raw
// write + fdatasync. Returns the hash (64 hex digits); out[0] = bytes written, out[1] =
// DurableAppendStatus, out[2] = errno. It answers undefined, having written nothing, where it
// cannot run (no SHA256 exported by the process, no POSIX write): the JS side then computes the
// same hash the same way (tests hold the two byte-identical).
#include <cstring>
#include <vector>

#include "durable_append.h"
#include "exports.h"
#include "process_sha256.h"

namespace vs::binding {
namespace {

// `,"hash":"` + 64 hex digits + `"`: what goes between the halves.
constexpr std::size_t kHashPrefixBytes = 9;
constexpr std::size_t kHashHexBytes = 64;
constexpr std::size_t kHashFieldBytes = kHashPrefixBytes + kHashHexBytes + 1;

/** Per-thread line buffer (an addon instance lives on one thread; workers each get their own). */
thread_local std::vector<char> lineScratch;

/** UTF-8 length of a JS string (status checked by the caller's type check). */
std::size_t Utf8Length(napi_env env, napi_value value) {
  std::size_t length = 0;
  napi_get_value_string_utf8(env, value, nullptr, 0, &length);
  return length;
}

Napi::Value AppendSealedLine(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsString() || !info[3].IsTypedArray()) {
    return env.Undefined();  // the JS side never calls it so: it treats undefined as "not available"
  }
  const Napi::TypedArray outArray = info[3].As<Napi::TypedArray>();
  if (outArray.TypedArrayType() != napi_float64_array || outArray.ElementLength() < 3) return env.Undefined();
  double* out = outArray.As<Napi::Float64Array>().Data();
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const std::size_t headBytes = Utf8Length(env, info[1]);
  const std::size_t tailBytes = Utf8Length(env, info[2]);
  // head | field | tail | '\n', plus one byte for the terminator napi writes after a string.
  const std::size_t lineBytes = headBytes + kHashFieldBytes + tailBytes + 1;
  if (lineScratch.size() < lineBytes + 1) lineScratch.resize(lineBytes + 1);
  char* line = lineScratch.data();
  std::size_t copied = 0;
  // The halves side by side first (each terminator lands where the next bytes go), hashed in one
  // piece; then the tail moves up to make room for the hash field.
  napi_get_value_string_utf8(env, info[1], line, headBytes + 1, &copied);
  napi_get_value_string_utf8(env, info[2], line + headBytes, tailBytes + 1, &copied);
  unsigned char digest[32];
  if (!ProcessSha256(line, headBytes + tailBytes, digest)) return env.Undefined();
  std::memmove(line + headBytes + kHashFieldBytes, line + headBytes, tailBytes);
  static const char kHex[] = "0123456789abcdef";
  char* field = line + headBytes;
  std::memcpy(field, ",\"hash\":\"", kHashPrefixBytes);
  char* hex = field + kHashPrefixBytes;
  for (std::size_t index = 0; index < sizeof digest; ++index) {
    hex[2 * index] = kHex[digest[index] >> 4];
    hex[2 * index + 1] = kHex[digest[index] & 0xf];
  }
  hex[kHashHexBytes] = '"';
  line[lineBytes - 1] = '\n';
  const DurableAppendResult result = AppendDurably(fd, line, lineBytes);
  // Nothing written (no POSIX write here): "not available", so the log takes its JS path.
  if (result.status == DurableAppendStatus::kUnsupported) return env.Undefined();
  out[0] = static_cast<double>(result.written);
  out[1] = static_cast<double>(static_cast<int>(result.status));
  out[2] = static_cast<double>(result.error);
  return Napi::String::New(env, hex, kHashHexBytes);
}

}  // namespace

void InitLogAppend(Napi::Env env, Napi::Object exports) {
  exports.Set("appendSealedLine", Napi::Function::New(env, AppendSealedLine, "appendSealedLine"));
}

}  // namespace vs::binding
