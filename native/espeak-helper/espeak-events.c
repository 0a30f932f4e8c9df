/*
 * espeak-events: a separate program (never linked into the addon: libespeak-ng is GPL-3) that
 * speaks the text read from stdin with libespeak-ng and reports what the engine measured.
 *
 * Usage: espeak-events [-v voice] [-s wpm] [-p pitch] [-g wordgap] [--ssml] < text
 * Output on stdout: one JSON line, then the raw audio (s16le mono):
 *   {"sampleRate":22050,"samples":N,"ipa":"...","events":[{"t":"word","ms":12,"pos":1,"len":5},
 *    {"t":"phoneme","ms":12,"ph":"h"},{"t":"end","ms":480}, ...]}\n<N*2 bytes>
 * "ms" is espeak-ng's audio_position (ms from the first sample of this run), "pos" the 1-based
 * character position of the word in the input and "len" its length in characters. Errors: exit 1
 * and a message on stderr. Parameters are those of the espeak-ng program's `-v -s -p` options, and
 * the text is synthesized with the same flags (espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE),
 * so the audio is the program's for the same text.
 */
#define _GNU_SOURCE
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static short *pcm = NULL;
static size_t pcm_len = 0, pcm_cap = 0;
static char *events = NULL;
static size_t events_len = 0, events_cap = 0;

static void die(const char *message) {
  fprintf(stderr, "espeak-events: %s\n", message);
  exit(1);
}

static void grow(void **buffer, size_t *cap, size_t need, size_t unit) {
  if (need <= *cap) return;
  size_t next = *cap ? *cap : 4096;
  while (next < need) next *= 2;
  void *moved = realloc(*buffer, next * unit);
  if (!moved) die("out of memory");
  *buffer = moved;
  *cap = next;
}

static void append(const char *text, size_t length) {
  grow((void **)&events, &events_cap, events_len + length + 1, 1);
  memcpy(events + events_len, text, length);
  events_len += length;
}

/* Appends `text` as a JSON string (quotes, backslashes and control characters escaped). */
static void append_json_string(const char *text, size_t length) {
  append("\"", 1);
  for (size_t i = 0; i < length && text[i] != '\0'; i++) {
    unsigned char c = (unsigned char)text[i];
    char escaped[8];
    if (c == '"' || c == '\\') {
      escaped[0] = '\\';
      escaped[1] = (char)c;
      append(escaped, 2);
    } else if (c < 0x20) {
      snprintf(escaped, sizeof escaped, "\\u%04x", c);
      append(escaped, 6);
    } else {
      append((const char *)&text[i], 1);
    }
  }
  append("\"", 1);
}

static int on_synth(short *wav, int count, espeak_EVENT *event) {
  if (wav && count > 0) {
    grow((void **)&pcm, &pcm_cap, pcm_len + (size_t)count, sizeof(short));
    memcpy(pcm + pcm_len, wav, (size_t)count * sizeof(short));
    pcm_len += (size_t)count;
  }
  for (; event && event->type != espeakEVENT_LIST_TERMINATED; event++) {
    char line[128];
    int n = 0;
    switch (event->type) {
      case espeakEVENT_WORD:
        n = snprintf(line, sizeof line, "%s{\"t\":\"word\",\"ms\":%d,\"pos\":%d,\"len\":%d}", events_len > 1 ? "," : "", event->audio_position, event->text_position, event->length);
        append(line, (size_t)n);
        break;
      case espeakEVENT_PHONEME:
        n = snprintf(line, sizeof line, "%s{\"t\":\"phoneme\",\"ms\":%d,\"ph\":", events_len > 1 ? "," : "", event->audio_position);
        append(line, (size_t)n);
        append_json_string(event->id.string, sizeof event->id.string);
        append("}", 1);
        break;
      case espeakEVENT_SENTENCE:
      case espeakEVENT_END:
      case espeakEVENT_MSG_TERMINATED:
        n = snprintf(line, sizeof line, "%s{\"t\":\"%s\",\"ms\":%d}", events_len > 1 ? "," : "",
                     event->type == espeakEVENT_SENTENCE ? "sentence" : event->type == espeakEVENT_END ? "end" : "done", event->audio_position);
        append(line, (size_t)n);
        break;
      default:
        break;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *voice = "en-us";
  int rate = 0, pitch = -1, gap = -1, flags = espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ssml") == 0) flags |= espeakSSML;
    else if (i + 1 < argc && strcmp(argv[i], "-v") == 0) voice = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "-s") == 0) rate = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "-p") == 0) pitch = atoi(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "-g") == 0) gap = atoi(argv[++i]);
    else die("usage: espeak-events [-v voice] [-s wpm] [-p pitch] [-g wordgap] [--ssml] < text");
  }
  /* The whole of stdin is the text. */
  size_t text_len = 0, text_cap = 0;
  char *text = NULL;
  for (;;) {
    grow((void **)&text, &text_cap, text_len + 4097, 1);
    size_t got = fread(text + text_len, 1, 4096, stdin);
    text_len += got;
    if (got == 0) break;
  }
  text[text_len] = '\0';

  int sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA | espeakINITIALIZE_DONT_EXIT);
  if (sample_rate <= 0) die("libespeak-ng could not be initialised (espeak-ng-data missing?)");
  if (espeak_SetVoiceByName(voice) != EE_OK) {
    /* As the espeak-ng program does: a name that is no voice file is tried as a language. */
    espeak_VOICE properties;
    memset(&properties, 0, sizeof properties);
    properties.languages = voice;
    if (espeak_SetVoiceByProperties(&properties) != EE_OK) die("unknown voice");
  }
  if (rate > 0) espeak_SetParameter(espeakRATE, rate, 0);
  if (pitch >= 0) espeak_SetParameter(espeakPITCH, pitch, 0);
  if (gap >= 0) espeak_SetParameter(espeakWORDGAP, gap, 0);
  /* The IPA of the same run, as `espeak-ng --ipa=3` prints it (phonemes joined by ZWJ). */
  char *ipa = NULL;
  size_t ipa_len = 0;
  FILE *ipa_out = open_memstream(&ipa, &ipa_len);
  if (!ipa_out) die("out of memory");
  espeak_SetPhonemeTrace(espeakPHONEMES_IPA | espeakPHONEMES_TIE | (0x200d << 8), ipa_out);
  espeak_SetSynthCallback(on_synth);
  append("[", 1);
  if (text_len > 0 && espeak_Synth(text, text_len + 1, 0, POS_CHARACTER, 0, (unsigned int)flags, NULL, NULL) != EE_OK) die("synthesis failed");
  espeak_Synchronize();
  append("]", 1);
  fclose(ipa_out);

  /* The event list is complete: reuse the buffer for the IPA as a JSON string. */
  char *list = events;
  size_t list_len = events_len;
  events = NULL;
  events_len = events_cap = 0;
  append_json_string(ipa ? ipa : "", ipa_len);
  printf("{\"sampleRate\":%d,\"samples\":%zu,\"ipa\":", sample_rate, pcm_len);
  fwrite(events, 1, events_len, stdout);
  printf(",\"events\":");
  fwrite(list, 1, list_len, stdout);
  printf("}\n");
  if (pcm_len > 0 && fwrite(pcm, sizeof(short), pcm_len, stdout) != pcm_len) die("could not write the audio");
  fflush(stdout);
  espeak_Terminate();
  return 0;
}
