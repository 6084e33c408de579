/* The little HTTP/1.0 server plugind and convd share: one request at a
 * time, every answer closes the connection. */
#ifndef PARE_TEST_HTTP_H
#define PARE_TEST_HTTP_H

/* Listens on PORT (argv[1] if given, else default_port) on every address;
 * for each request calls handle(), which returns the body and sets *status,
 * and sends the answer. Never returns. */
void serve(int argc, char **argv, int default_port, const char *(*handle)(int *status));

#endif
