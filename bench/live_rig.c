/* bench/live_rig.c — see live_rig.h. */
#include "live_rig.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "feed/feed.h"

extern char **environ;

int
rig_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    int port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

int
rig_port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

int
rig_wait_port(int port, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 25) {
        if (rig_port_open(port))
            return 1;
        usleep(25000);
    }
    return rig_port_open(port);
}

pid_t
rig_start_broker(int port, char *conf_path, size_t conf_cap)
{
    snprintf(conf_path, conf_cap, "/tmp/bench_mosquitto_XXXXXX.conf");
    int cfd = mkstemps(conf_path, 5);
    FILE *cf = cfd >= 0 ? fdopen(cfd, "w") : NULL;
    if (cf == NULL)
        return -1;
    fprintf(cf,
            "listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
            "max_queued_bytes 0\nmax_inflight_messages 0\n",
            port);
    fclose(cf);
    char *argv[] = {"/usr/sbin/mosquitto", "-c", conf_path, NULL};
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s (scripts/deps.sh --test installs it)\n", argv[0]);
        return -1;
    }
    if (!rig_wait_port(port, 5000)) {
        fprintf(stderr, "mosquitto does not listen on port %d\n", port);
        rig_stop(pid);
        return -1;
    }
    return pid;
}

void
rig_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

void
rig_bay_lonlat(int b, double *lon, double *lat)
{
    *lon = 6.76 + (b % 50) * 0.0008;
    *lat = 51.21 + (b / 50) * 0.0005;
}

int
rig_write_devices(int nbays, char *path)
{
    snprintf(path, 64, "/tmp/bench_devices_XXXXXX.csv");
    int fd = mkstemps(path, 4);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL)
        return -1;
    fprintf(f, "dev_eui,sensor,lon,lat\n");
    for (int b = 0; b < nbays; b++) {
        double lon, lat;
        rig_bay_lonlat(b, &lon, &lat);
        fprintf(f, "70b3d5%010d,B%05d,%.6f,%.6f\n", b, b, lon, lat);
    }
    return fclose(f) == 0 ? 0 : -1;
}

json_t *
rig_uplink_template(void)
{
    json_error_t je;
    json_t *t = json_load_file(TS_SOURCE_DIR "/tests/data/feed/lorawan_chirpstack_v4_uplink_1.json",
                               0, &je);
    if (t == NULL)
        fprintf(stderr, "uplink template: %s\n", je.text);
    return t;
}

char *
rig_uplink(json_t *tpl, int b, int occupied, int64_t ms)
{
    char eui[32], t[40];
    snprintf(eui, sizeof eui, "70b3d5%010d", b);
    ts_feed_time_format(ms, t, sizeof t);
    json_object_set_new(json_object_get(tpl, "deviceInfo"), "devEui", json_string(eui));
    json_object_set_new(tpl, "time", json_string(t));
    json_object_set_new(tpl, "object", json_pack("{s:b}", "occupied", occupied));
    return json_dumps(tpl, JSON_COMPACT);
}

void
rig_uplink_topic(int b, char *topic, size_t cap)
{
    snprintf(topic, cap, "application/bench/device/%010d/event/up", b);
}

void
rig_print_header(const char *name)
{
    char commit[64] = "unknown", cpu[600] = "unknown";
    FILE *g = popen("git -C " TS_SOURCE_DIR " rev-parse --short HEAD 2>/dev/null", "r");
    if (g != NULL) {
        if (fgets(commit, sizeof commit, g) != NULL)
            commit[strcspn(commit, "\n")] = '\0';
        pclose(g);
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *p = strchr(line, ':');
                snprintf(cpu, sizeof cpu, "%s", p ? p + 2 : line);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    int major, minor, rev;
    mosquitto_lib_version(&major, &minor, &rev);
    printf("%s: commit %s, compiler %s, %s %s, CPU %s, %ld cores online, "
           "libmosquitto %d.%d.%d, broker /usr/sbin/mosquitto on loopback\n",
           name, commit, __VERSION__, u.sysname, u.machine, cpu, sysconf(_SC_NPROCESSORS_ONLN),
           major, minor, rev);
}

int
rig_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
