// The one place miniaudio is configured. Every translation unit includes this header instead of
// miniaudio.h, so all of them see the same configuration macros (they change struct layouts).
#pragma once

#define MA_NO_DECODING
#define MA_NO_ENCODING
#define MA_NO_GENERATION
#define MA_NO_RESOURCE_MANAGER
#define MA_NO_NODE_GRAPH
#define MA_NO_ENGINE
#define MA_NO_WAV
#define MA_NO_FLAC
#define MA_NO_MP3

#include <miniaudio.h>
