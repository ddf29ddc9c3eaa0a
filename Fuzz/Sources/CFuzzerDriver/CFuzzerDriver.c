// The header declares libFuzzer's driver; there is no code of our own here.
#include "CFuzzerDriver.h"
