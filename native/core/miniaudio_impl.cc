// miniaudio's implementation, compiled once in its own translation unit.
#define MINIAUDIO_IMPLEMENTATION
#include "ma_setup.h"
