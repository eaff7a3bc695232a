/* Preloaded into kprune-sweep by scripts/soak.py: SIGKILLs the process inside its Nth HDF5
 * dataset write (KPRUNE_SOAK_KILL_AT_WRITE=N), so that the soak can kill the coordinator in
 * the middle of writing a record, a moment that random kill times rarely hit. Without the
 * variable it only forwards to the real H5Dwrite. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <hdf5.h>
#include <signal.h>
#include <stdlib.h>

typedef herr_t (*h5dwrite_fn)(hid_t, hid_t, hid_t, hid_t, hid_t, const void*);

herr_t H5Dwrite(hid_t dataset, hid_t memory_type, hid_t memory_space, hid_t file_space,
                hid_t transfer, const void* buffer) {
  static h5dwrite_fn real_write = NULL;
  static long writes = 0;
  static long kill_at = -1;
  if (real_write == NULL) {
    real_write = (h5dwrite_fn)dlsym(RTLD_NEXT, "H5Dwrite");
    const char* text = getenv("KPRUNE_SOAK_KILL_AT_WRITE");
    kill_at = text != NULL ? atol(text) : -1;
  }
  if (++writes == kill_at) raise(SIGKILL);
  return real_write(dataset, memory_type, memory_space, file_space, transfer, buffer);
}
