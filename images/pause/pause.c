/*
 * Skiff pod sandbox ("pause") process.
 *
 * Holds the pod's namespaces open for as long as the pod lives. Behaviour
 * follows the upstream Kubernetes pause container:
 *   - sleeps in pause(2) forever;
 *   - SIGINT/SIGTERM: exits 0, so a graceful stop is not reported as a crash
 *     and the runtime never has to escalate to SIGKILL;
 *   - SIGCHLD: reaps every exited child, because with a shared PID namespace
 *     it is PID 1 and orphans get re-parented to it;
 *   - not PID 1: only warns (upstream does not refuse either: the binary is
 *     also used outside sandboxes);
 *   - "-v": prints its version and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SKIFF_PAUSE_VERSION
#define SKIFF_PAUSE_VERSION "3.10"
#endif

static void on_shutdown(int sig) {
  /* Only async-signal-safe calls here: write(2) and _exit(2). */
  static const char msg[] = "pause: shutting down\n";
  (void)sig;
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  /* One SIGCHLD may stand for several exits, so drain all of them. */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static int install(int sig, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    printf("skiff pause %s\n", SKIFF_PAUSE_VERSION);
    return 0;
  }
  if (getpid() != 1) {
    fprintf(stderr, "pause: warning: not running as PID 1\n");
  }
  if (install(SIGINT, on_shutdown, 0) != 0) return 1;
  if (install(SIGTERM, on_shutdown, 0) != 0) return 2;
  /* SA_NOCLDSTOP: stopped/continued children are not exits, nothing to reap. */
  if (install(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) != 0) return 3;

  for (;;) {
    pause();
  }
  /* Unreachable: the loop only ends through a signal handler. */
  return 42;
}
