/* api.c - bench/api: API latency and throughput with 1,000 VMs defined.
 *
 * Starts a real hvd on a temporary state dir, defines 1,000 VMs through
 * POST /v1/vms (timing each), then times GET /v1/vms/{name} on random
 * VMs, GET /v1/vms (the whole list) and GET /v1/hosts, over one
 * keep-alive connection on the Unix socket with libcurl. Prints p50/p99
 * and requests per second per kind; each measured phase runs `runs`
 * times and the median of each figure is printed. Figures only: nothing
 * here passes or fails on a time.
 *
 * Usage: bench-api HVD_BINARY [VMS=1000] [GETS=5000] [RUNS=5] */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char sock[256];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

static long request(CURL *c, const char *method, const char *path, const char *body)
{
	char url[512];
	long code = 0;

	snprintf(url, sizeof(url), "http://hvd%s", path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[i];
}

struct figure {
	double p50, p99, rps;
};

static int phase(CURL *c, const char *method, int n, int nvms, double *lat, struct figure *out,
		 const char *fixed_path)
{
	double t0 = now_s();
	char path[128];

	for (int i = 0; i < n; i++) {
		double a;
		long code;

		if (fixed_path)
			snprintf(path, sizeof(path), "%s", fixed_path);
		else
			snprintf(path, sizeof(path), "/v1/vms/bench-%d", rand() % nvms);
		a = now_s();
		code = request(c, method, path, NULL);
		lat[i] = (now_s() - a) * 1e3;
		if (code != 200) {
			fprintf(stderr, "bench-api: %s %s -> %ld\n", method, path, code);
			return -1;
		}
	}
	out->rps = n / (now_s() - t0);
	out->p50 = pct(lat, n, 0.50);
	out->p99 = pct(lat, n, 0.99);
	return 0;
}

static double median_of(struct figure *f, int runs, int which)
{
	double v[64];

	for (int i = 0; i < runs; i++)
		v[i] = which == 0 ? f[i].p50 : which == 1 ? f[i].p99 : f[i].rps;
	return pct(v, runs, 0.5);
}

static void print_row(const char *what, struct figure *f, int runs)
{
	printf("%-34s p50 %8.3f ms   p99 %8.3f ms   %9.0f req/s\n", what, median_of(f, runs, 0),
	       median_of(f, runs, 1), median_of(f, runs, 2));
}

int main(int argc, char **argv)
{
	int nvms = argc > 2 ? atoi(argv[2]) : 1000;
	int ngets = argc > 3 ? atoi(argv[3]) : 5000;
	int runs = argc > 4 ? atoi(argv[4]) : 5;
	char dir[] = "/tmp/hvd-bench-api-XXXXXX", state[300], run[300], listen[300], conf[300];
	struct figure get[64], list[64], hosts[64], post;
	double *lat;
	CURL *c;
	pid_t pid;

	if (argc < 2 || nvms < 1 || ngets < 1 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: bench-api HVD_BINARY [VMS=1000] [GETS=5000] [RUNS=5]\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(sock, sizeof(sock), "%s/run/hvd.sock", dir);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	/* room for 1,000 small VMs whatever this machine has */
	snprintf(conf, sizeof(conf), "%s/hvd.conf", dir);
	{
		FILE *f = fopen(conf, "w");

		if (!f) {
			perror(conf);
			return 1;
		}
		fprintf(f, "host_vcpus = 4096\nhost_memory_mib = 1048576\n");
		fclose(f);
	}
	pid = fork();
	if (pid == 0) {
		char *args[] = { argv[1], "--config", conf, "--state-dir", state, "--runtime-dir", run,
				 "--listen", listen, "--log-level", "warning", NULL };
		execv(argv[1], args);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(sock, F_OK) < 0; i++)
		usleep(20000);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	lat = calloc((size_t)(ngets > nvms ? ngets : nvms), sizeof(*lat));

	/* POST: define nvms VMs (once: names are unique) */
	{
		struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
		double t0 = now_s();

		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		for (int i = 0; i < nvms; i++) {
			char body[256], mac[32];
			double a = now_s();
			long code;

			snprintf(mac, sizeof(mac), "52:54:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
			snprintf(body, sizeof(body),
				 "{\"name\":\"bench-%d\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"/boot/vmlinuz\"},"
				 "\"nics\":[{\"id\":\"n0\",\"network\":\"br0\",\"mac\":\"%s\"}],\"labels\":{\"bench\":\"yes\"}}",
				 i, mac);
			code = request(c, "POST", "/v1/vms", body);
			lat[i] = (now_s() - a) * 1e3;
			if (code != 201) {
				fprintf(stderr, "bench-api: POST /v1/vms -> %ld at VM %d\n", code, i);
				goto out;
			}
		}
		post.rps = nvms / (now_s() - t0);
		post.p50 = pct(lat, nvms, 0.5);
		post.p99 = pct(lat, nvms, 0.99);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(h);
	}
	for (int r = 0; r < runs; r++) {
		if (phase(c, "GET", ngets, nvms, lat, &get[r], NULL) < 0 ||
		    phase(c, "GET", 20, nvms, lat, &list[r], "/v1/vms") < 0 ||
		    phase(c, "GET", 500, nvms, lat, &hosts[r], "/v1/hosts") < 0)
			goto out;
	}
	printf("hvd API, %d VMs defined, Unix socket, one keep-alive connection (median of %d runs)\n", nvms, runs);
	printf("%-34s p50 %8.3f ms   p99 %8.3f ms   %9.0f req/s   (one run: %d creates, each fsynced)\n",
	       "POST /v1/vms", post.p50, post.p99, post.rps, nvms);
	print_row("GET /v1/vms/{name}", get, runs);
	print_row("GET /v1/vms (all)", list, runs);
	print_row("GET /v1/hosts", hosts, runs);
	printf("target (DESIGN.md): GET p99 < 2 ms with 1,000 VMs defined\n");
out:
	curl_easy_cleanup(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-api: could not remove %s\n", dir);
	}
	free(lat);
	return 0;
}
