#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt), linked by -sanitize=fuzzer. Each fuzz target's main calls it: SwiftPM links
// an executable's main itself, so libFuzzer's own main() is never used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
