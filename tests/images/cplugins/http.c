/* See http.h. */
#include "http.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads the request up to the blank line ending its head (bodies are
 * ignored: every route answers the same). */
static void read_request(int fd)
{
    char buf[4096];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof buf - 1 && (n = read(fd, buf + have, sizeof buf - 1 - have)) > 0) {
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return;
    }
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

void serve(int argc, char **argv, int default_port, const char *(*handle)(int *status))
{
    int port = argc > 1 ? atoi(argv[1]) : default_port;
    int one = 1;
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)port),
                                .sin6_addr = IN6ADDR_ANY_INIT};
    int server = socket(AF_INET6, SOCK_STREAM, 0);
    int family = AF_INET6;
    if (server < 0) { /* no IPv6 in this network namespace: IPv4 only */
        server = socket(AF_INET, SOCK_STREAM, 0);
        family = AF_INET;
    }
    if (server < 0) {
        perror("socket");
        exit(1);
    }
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int bound;
    if (family == AF_INET6) {
        int zero = 0; /* IPv4 too, through mapped addresses */
        setsockopt(server, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        bound = bind(server, (struct sockaddr *)&addr, sizeof addr);
    } else {
        struct sockaddr_in addr4 = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                                    .sin_addr.s_addr = htonl(INADDR_ANY)};
        bound = bind(server, (struct sockaddr *)&addr4, sizeof addr4);
    }
    if (bound < 0 || listen(server, 16) < 0) {
        perror("bind/listen");
        exit(1);
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "%s: listening on port %d\n", argv[0], port);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0)
            continue;
        read_request(client);
        int status = 200;
        const char *body = handle(&status);
        char head[256];
        int len = snprintf(head, sizeof head,
                           "HTTP/1.0 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                           status, status == 200 ? "OK" : "Internal Server Error", strlen(body));
        write_all(client, head, (size_t)len);
        write_all(client, body, strlen(body));
        close(client);
    }
}
