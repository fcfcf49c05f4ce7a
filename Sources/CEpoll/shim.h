#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H

// No _GNU_SOURCE here: it changes glibc's struct definitions (fd_set) and the module then
// clashes with SwiftGlibc. accept4 is declared by hand below instead.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>

// <sys/socket.h> declares accept4 only under _GNU_SOURCE; the symbol is always in libc.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// glibc declares the EPOLL* flags as enum members (EPOLLET does not fit a signed enum cleanly)
// and the SOCK_* flags as an enum too; plain constants import as UInt32/Int32 without casts.
static const uint32_t CEPOLL_IN = EPOLLIN;
static const uint32_t CEPOLL_OUT = EPOLLOUT;
static const uint32_t CEPOLL_RDHUP = EPOLLRDHUP;
static const uint32_t CEPOLL_HUP = EPOLLHUP;
static const uint32_t CEPOLL_ERR = EPOLLERR;
static const int CEPOLL_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int CEPOLL_SOCK_CLOEXEC = SOCK_CLOEXEC;
static const int CEPOLL_SOCK_STREAM = SOCK_STREAM;
static const int CEPOLL_EFD_NONBLOCK = EFD_NONBLOCK;
static const int CEPOLL_EFD_CLOEXEC = EFD_CLOEXEC;
static const int CEPOLL_MSG_NOSIGNAL = MSG_NOSIGNAL;

// struct epoll_event is packed on x86-64; building and reading it in C keeps Swift away from
// the packed layout.
static inline struct epoll_event cepoll_event(uint32_t events, uint64_t token) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = token;
    return ev;
}
static inline uint32_t cepoll_event_flags(const struct epoll_event *ev) { return ev->events; }
static inline uint64_t cepoll_event_token(const struct epoll_event *ev) { return ev->data.u64; }

static inline int cepoll_ignore_sigpipe(void) {
    return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0;
}

#endif
