// The Linux calls HTTPKit needs that Swift's Glibc module leaves out: <sys/epoll.h> and <sys/eventfd.h> are not in
// its module map, and accept4 and sched_getaffinity need _GNU_SOURCE, which the module was built without, so
// they are wrapped in CLinux.c, compiled with it.
#ifndef CLINUX_H
#define CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4(2).
int CLinux_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// The number of CPUs in this process's affinity mask (sched_getaffinity(2)), or -1.
int CLinux_affinityCPUCount(void);

#endif
