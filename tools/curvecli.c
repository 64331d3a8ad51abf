/* tools/curvecli.c - CURVE client setup shared by the tools. */
#include "curvecli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

int curve_key_arg(const char *v, char out[CURVE_KEY + 1])
{
    char line[128] = "";
    FILE *f = fopen(v, "r");
    size_t n;
    if (f) {
        if (!fgets(line, sizeof(line), f))
            line[0] = '\0';
        fclose(f);
        v = line;
    }
    n = strcspn(v, "\r\n");
    if (n != CURVE_KEY) {
        fprintf(stderr,
                "curve: '%.60s' is neither a Z85 key (40 chars) nor a file "
                "holding one\n",
                f ? "(file)" : v);
        return -1;
    }
    memcpy(out, v, CURVE_KEY);
    out[CURVE_KEY] = '\0';
    return 0;
}

int curve_client(void *sock, const char *secret, const char *server)
{
    char sec[CURVE_KEY + 1], pub[CURVE_KEY + 1], srv[CURVE_KEY + 1];
    if (curve_key_arg(secret, sec) || curve_key_arg(server, srv))
        return -1;
    if (zmq_curve_public(pub, sec) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv, CURVE_KEY) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, CURVE_KEY) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, CURVE_KEY)) {
        fprintf(stderr, "curve: %s\n", zmq_strerror(errno));
        return -1;
    }
    return 0;
}
