#ifndef FUZZER_SUPPORT_H
#define FUZZER_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (linked by `-sanitize=fuzzer`): parses its flags in argv and fuzzes `test_one_input`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

/// Starts counting the bytes malloc hands out and free takes back (through AddressSanitizer's hooks), and resets the
/// peak: `allocation_watch_peak()` is then the most bytes live at once since this call, counted from this call.
void allocation_watch_start(void);

/// The most bytes live at once since `allocation_watch_start()`, above what was live at that call.
long long allocation_watch_peak(void);

#endif
