/*
 * The machine's floor for experiment 1: the echo responder of reflector.ts in C, with no
 * runtime, no JIT and no event loop. It answers ARP requests and ICMP echo requests for its
 * address by rewriting each frame in place. Sleeping, it waits in poll(2) on the TAP and its
 * stdin; with --busy-poll USEC it reads the non-blocking TAP in a loop until USEC microseconds
 * have passed without a frame, then sleeps again; with --nap USEC it sleeps in naps of USEC for
 * a second after each frame, as gonet does (rule 4 of ffi/inline_wait.ts). What it measures is
 * what the TAP and one wake-up cost this machine by themselves: no responder in user space that
 * sleeps the same way answers sooner.
 *
 *   c_reflector [--tap NAME] [--ip A.B.C.D/LEN] [--host-ip A.B.C.D/LEN] [--busy-poll USEC]
 *               [--nap USEC]
 *
 * Run as root inside a namespace made for it. It gives the kernel side of the TAP --host-ip,
 * prints one {"ready":true,...} line and serves until its stdin closes.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

/* Whether bytes at..at+3 of the frame hold the address (network order in memory). */
static int holds(const uint8_t *frame, int at, const uint8_t address[4]) {
  return memcmp(frame + at, address, 4) == 0;
}

/* Turns an ARP request (RFC 826) for the address into its reply in place. */
static int answer_arp(uint8_t *f, ssize_t n, const uint8_t address[4]) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x06 || f[21] != 1 || !holds(f, 38, address)) return 0;
  memmove(f, f + 6, 6);
  memcpy(f + 6, MAC, 6);
  f[21] = 2;
  memmove(f + 32, f + 22, 10); /* the asker becomes the target */
  memcpy(f + 22, MAC, 6);
  memcpy(f + 28, address, 4);
  return 1;
}

/* Turns an ICMP echo request to the address into its reply in place. */
static int answer_echo(uint8_t *f, ssize_t n, const uint8_t address[4]) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 1) return 0;
  int icmp = 14 + (f[14] & 0x0f) * 4;
  if (n < icmp + 8 || f[icmp] != 8 || !holds(f, 30, address)) return 0;
  memmove(f, f + 6, 6);
  memcpy(f + 6, MAC, 6);
  for (int i = 26; i < 30; i++) { /* swap the addresses: the header checksum stays */
    uint8_t byte = f[i];
    f[i] = f[i + 4];
    f[i + 4] = byte;
  }
  f[icmp] = 0;
  /* Type 8 became 0: the checksum grows by 0x0800 in one's complement (RFC 1624). */
  uint32_t sum = ((uint32_t)f[icmp + 2] << 8 | f[icmp + 3]) + 0x0800;
  sum = (sum & 0xffff) + (sum >> 16);
  f[icmp + 2] = sum >> 8;
  f[icmp + 3] = sum & 0xff;
  return 1;
}

/* Parses A.B.C.D/LEN into address and prefix length; 0 if malformed. */
static int parse_cidr(const char *text, uint8_t address[4], int *prefix) {
  char copy[64];
  snprintf(copy, sizeof copy, "%s", text);
  char *slash = strchr(copy, '/');
  *prefix = 32;
  if (slash != NULL) {
    *slash = 0;
    *prefix = atoi(slash + 1);
    if (*prefix < 0 || *prefix > 32) return 0;
  }
  return inet_pton(AF_INET, copy, address) == 1;
}

static int fail(const char *what) {
  fprintf(stderr, "c_reflector: %s: %s\n", what, strerror(errno));
  return 1;
}

/* Gives the kernel side of the TAP its address and brings the link up. */
static int configure_host(const char *tap, const char *cidr) {
  uint8_t address[4];
  int prefix;
  if (!parse_cidr(cidr, address, &prefix)) {
    fprintf(stderr, "c_reflector: invalid --host-ip %s\n", cidr);
    return 1;
  }
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) return fail("socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
  struct sockaddr_in *in = (struct sockaddr_in *)&ifr.ifr_addr;
  in->sin_family = AF_INET;
  memcpy(&in->sin_addr, address, 4);
  if (ioctl(s, SIOCSIFADDR, &ifr) < 0) return fail("SIOCSIFADDR");
  in->sin_addr.s_addr = prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
  if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) return fail("SIOCSIFNETMASK");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("SIOCGIFFLAGS");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return fail("SIOCSIFFLAGS");
  close(s);
  return 0;
}

/* How long after a frame --nap applies, us: NAP_WINDOW_MS of ffi/inline_wait.ts. */
#define NAP_WINDOW_US 1e6

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  const char *tap = "gonet0", *ip = "10.0.0.2/24", *host_ip = "10.0.0.1/24";
  double busy_poll_us = 0, nap_us = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--tap") == 0) tap = argv[i + 1];
    else if (strcmp(argv[i], "--ip") == 0) ip = argv[i + 1];
    else if (strcmp(argv[i], "--host-ip") == 0) host_ip = argv[i + 1];
    else if (strcmp(argv[i], "--busy-poll") == 0) busy_poll_us = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--nap") == 0) nap_us = atof(argv[i + 1]);
    else {
      fprintf(stderr, "c_reflector: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  uint8_t address[4];
  int prefix;
  if (!parse_cidr(ip, address, &prefix)) {
    fprintf(stderr, "c_reflector: invalid --ip %s\n", ip);
    return 2;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (fd < 0) return fail("open /dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return fail("TUNSETIFF");
  if (configure_host(tap, host_ip) != 0) return 1;
  printf("{\"ready\":true,\"pid\":%d,\"stack\":\"c reflector\"}\n", (int)getpid());
  fflush(stdout);

  uint8_t frame[65536];
  struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  double last_frame_us = -1e18;
  for (;;) {
    double quiet_us = now_us() - last_frame_us;
    int busy = busy_poll_us > 0 && quiet_us < busy_poll_us;
    int nap = nap_us > 0 && quiet_us < NAP_WINDOW_US;
    struct timespec nap_length = {.tv_sec = 0, .tv_nsec = (long)(nap_us * 1000)};
    struct timespec zero = {0, 0};
    const struct timespec *timeout = busy ? &zero : nap ? &nap_length : NULL;
    int ready = ppoll(fds, 2, timeout, NULL);
    if (ready < 0 && errno != EINTR) return fail("ppoll");
    if (ready <= 0) continue;
    if (fds[1].revents != 0) break; /* stdin closed (or written to): the orchestrator is done */
    ssize_t n;
    while ((n = read(fd, frame, sizeof frame)) > 0) {
      last_frame_us = now_us();
      if (answer_echo(frame, n, address) || answer_arp(frame, n, address)) {
        if (write(fd, frame, n) < 0 && errno != EAGAIN) return fail("write");
      }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return fail("read");
  }
  close(fd);
  return 0;
}
