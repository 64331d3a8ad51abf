/* core/be.h - big-endian integers in byte buffers (the log's keys, the
 * journal's frame headers). */
#ifndef DESKD_BE_H
#define DESKD_BE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline void put_be32(unsigned char *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, 4);
}

static inline uint32_t get_be32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return be32toh(v);
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, 8);
}

static inline uint64_t get_be64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return be64toh(v);
}

#endif
