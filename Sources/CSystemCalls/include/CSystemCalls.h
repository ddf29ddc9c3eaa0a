#ifndef ORCHESTRATOR_CSYSTEMCALLS_H
#define ORCHESTRATOR_CSYSTEMCALLS_H

/// Atomically exchanges two paths (renameat2 with RENAME_EXCHANGE), which Swift's Glibc module does not
/// export. Returns 0, or -1 with errno set.
int orchestrator_rename_exchange(const char *first, const char *second);

#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np (glibc >= 2.29), which needs _GNU_SOURCE and so does not reach Swift.
/// A direct call, so that it also works in the statically linked worker (where dlsym finds nothing).
int orchestrator_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *directory);

/// posix_spawn_file_actions_addclosefrom_np (glibc >= 2.34, _GNU_SOURCE): the child closes every descriptor
/// from `lowest` up before it execs, whatever the parent (or a library in it) forgot to mark close-on-exec.
int orchestrator_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowest);

/// prctl(PR_SET_DUMPABLE / PR_GET_DUMPABLE), which is variadic and so does not reach Swift. A non-dumpable process's
/// memory, environment and descriptors cannot be read by other processes of the same (non-root) user.
int orchestrator_set_dumpable(int dumpable);
int orchestrator_get_dumpable(void);

#endif
