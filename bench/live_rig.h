/* bench/live_rig.h — what the live-feed benchmarks (bench_feed, bench_live) share: a
 * mosquitto broker on a free loopback port, a device table of parking bays, ChirpStack v4
 * uplinks built from the recorded sample, and the header line naming the machine.
 * Benchmark code only: errors are printed and reported as -1 / NULL. */
#ifndef TS_BENCH_LIVE_RIG_H
#define TS_BENCH_LIVE_RIG_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

/* A free TCP port on 127.0.0.1 (bound and released), or -1. */
int rig_free_port(void);
/* 1 if something accepts connections on 127.0.0.1:port. */
int rig_port_open(int port);
/* Wait up to timeout_ms for 127.0.0.1:port to accept; 1 when it does. */
int rig_wait_port(int port, int timeout_ms);

/* Start /usr/sbin/mosquitto on 127.0.0.1:port with unbounded queues (the default 1000
 * queued messages per client would drop most of a flood: the broker's choice, not the
 * feed's), and wait until it listens. Returns its pid, or -1. conf_path (PATH_MAX) gets the
 * temporary configuration file to unlink at the end. */
pid_t rig_start_broker(int port, char *conf_path, size_t conf_cap);
/* SIGTERM and reap a child started by the rig (pid <= 0 is ignored). */
void rig_stop(pid_t pid);

/* Write the device table of nbays bays to a new temporary CSV (path into path, which must
 * hold 64 bytes): dev_eui 70b3d5<10 digits>, sensor B<5 digits>, on a 50-column grid over
 * the demo area (bay b at rig_bay_lonlat). 0 on success. */
int rig_write_devices(int nbays, char *path);
/* Longitude and latitude of bay b of the device table. */
void rig_bay_lonlat(int b, double *lon, double *lat);

/* The recorded ChirpStack v4 uplink (tests/data/feed) as a template, or NULL. */
json_t *rig_uplink_template(void);
/* The template changed to bay b, "occupied" = occupied, time ms (Unix ms): malloc'ed text. */
char *rig_uplink(json_t *tpl, int b, int occupied, int64_t ms);
/* The MQTT topic of bay b's uplinks into topic (cap bytes). */
void rig_uplink_topic(int b, char *topic, size_t cap);

/* Print "<name>: commit ..., compiler ..., CPU ..., N cores online, libmosquitto x.y.z". */
void rig_print_header(const char *name);

/* qsort comparator of doubles. */
int rig_cmp_double(const void *a, const void *b);

#endif
