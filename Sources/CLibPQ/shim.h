#ifndef HUBSIGNAL_CLIBPQ_SHIM_H
#define HUBSIGNAL_CLIBPQ_SHIM_H

/* libpq's client header. Debian installs it as /usr/include/postgresql/libpq-fe.h and publishes the include
   path through pkg-config (libpq.pc); Homebrew and other layouts put it on the default path. */
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#elif __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#else
#error "libpq-fe.h not found: install libpq's development files (Debian/Ubuntu: apt-get install libpq-dev; macOS: brew install libpq)"
#endif

#include <poll.h>

#endif
