#ifndef ORCHESTRATOR_CSYSTEMCALLS_H
#define ORCHESTRATOR_CSYSTEMCALLS_H

/// Atomically exchanges two paths (renameat2 with RENAME_EXCHANGE), which Swift's Glibc module does not
/// export. Returns 0, or -1 with errno set.
int orchestrator_rename_exchange(const char *first, const char *second);

#endif
