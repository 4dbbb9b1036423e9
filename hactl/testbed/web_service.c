/* The test clusters' web service, compiled: what web_service.py does, listening ~1 ms
 * after the resource script starts it instead of the ~15 ms an interpreter takes here.
 *
 *     web_service PORT PIDFILE PAGE
 *
 * It binds and listens, then forks: the child serves, the parent writes the child's PID to
 * PIDFILE (through a rename, so a reader never sees half a PID) and exits 0. So when the
 * resource script's `start` returns, the port already accepts connections, as a forking
 * daemon's start should. Each connection gets one `200 OK` whose body is PAGE and a
 * newline, then is closed. The service's start-up is part of every failover a test or
 * bench measures, and it is the service's cost, not the cluster manager's: a compiled
 * stand-in for Apache keeps it small. hactl/daemon/lab.py builds this file with the
 * machine's C compiler and falls back to web_service.py where there is none.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define RECEIVE_LIMIT_BYTES 65536
#define CLIENT_TIMEOUT_S 1 /* a client that connects and says nothing cannot stall others */

static int listening_socket(int port) {
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (server < 0) return -1;
    /* Failback starts the service again right after it stopped here: rebind at once. */
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) return -1;
    if (listen(server, 128) < 0) return -1;
    return server;
}

static void serve_one(int connection, const char *answer, size_t answer_bytes) {
    static char request[RECEIVE_LIMIT_BYTES + 1];
    size_t received = 0;
    struct timeval timeout = {.tv_sec = CLIENT_TIMEOUT_S};
    setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    while (received < RECEIVE_LIMIT_BYTES) {
        ssize_t chunk = recv(connection, request + received, RECEIVE_LIMIT_BYTES - received, 0);
        if (chunk <= 0) return; /* closed, reset or timed out: that client's loss only */
        received += (size_t)chunk;
        request[received] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL) break;
    }
    for (size_t sent = 0; sent < answer_bytes;) {
        ssize_t chunk = send(connection, answer + sent, answer_bytes - sent, MSG_NOSIGNAL);
        if (chunk <= 0) return;
        sent += (size_t)chunk;
    }
}

static int write_pid_file(const char *pid_file, pid_t child) {
    char fresh[4096];
    if (snprintf(fresh, sizeof fresh, "%s.new", pid_file) >= (int)sizeof fresh) return -1;
    FILE *sink = fopen(fresh, "w");
    if (sink == NULL) return -1;
    fprintf(sink, "%d\n", (int)child);
    if (fclose(sink) != 0) return -1;
    return rename(fresh, pid_file);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fputs("usage: web_service PORT PIDFILE PAGE\n", stderr);
        return 2;
    }
    char body[1024], answer[2048];
    int body_bytes = snprintf(body, sizeof body, "%s\n", argv[3]);
    if (body_bytes < 0 || body_bytes >= (int)sizeof body) return 2;
    int answer_bytes = snprintf(answer, sizeof answer,
                                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                                body_bytes, body);
    if (answer_bytes < 0 || answer_bytes >= (int)sizeof answer) return 2;
    int server = listening_socket(atoi(argv[1]));
    if (server < 0) {
        perror("web_service: listen");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("web_service: fork");
        return 1;
    }
    if (child > 0) {
        if (write_pid_file(argv[2], child) != 0) {
            perror("web_service: pid file");
            kill(child, SIGTERM);
            return 1;
        }
        return 0;
    }
    setsid(); /* outlives the resource script, like a daemonised Apache */
    for (;;) {
        int connection = accept4(server, NULL, NULL, SOCK_CLOEXEC);
        if (connection < 0) continue;
        serve_one(connection, answer, (size_t)answer_bytes);
        close(connection);
    }
}
