/* tools/curvecli.h - CURVE for the tools' ZeroMQ clients (deskctl,
 * deskbench): keys given as Z85 text or as files holding it. */
#ifndef DESKD_CURVECLI_H
#define DESKD_CURVECLI_H

#define CURVE_KEY 40 /* chars of a Z85 CURVE key (32 bytes) */

/* A Z85 key from a file (its first line) or, when no such file exists,
 * from v itself. 0, or -1 with a message on stderr. */
int curve_key_arg(const char *v, char out[CURVE_KEY + 1]);

/* Makes sock a CURVE client of the server with public key server, with
 * this client's secret key (its public key is derived). Both are given as
 * for curve_key_arg. Call before zmq_connect. 0, or -1 with a message. */
int curve_client(void *sock, const char *secret, const char *server);

#endif
