/* core/version.h - deskd's version, the one place it is written: the
 * programs print it (--version), the Makefile reads it for the man pages. */
#ifndef DESKD_VERSION_H
#define DESKD_VERSION_H

#define DESKD_VERSION "0.1.0"

#endif
