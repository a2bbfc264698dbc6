/* harness.c - real hvd processes, HTTP over real sockets, and cleanup.
 *
 * Invariant: every daemon this process started is in procs[] until it was
 * reaped, and every temporary directory until it was removed; the exit
 * handler and the signal handler kill and remove whatever is left, so a
 * failing or timed-out test leaves nothing behind. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "harness.h"

#define MAX_PROCS 8

int t_failures;
int t_checks;

static const char *test_name = "test";
static const char *hvd_bin;
static struct hvd_proc *procs[MAX_PROCS];

/* ---- results and cleanup ---- */

static void cleanup(void)
{
	for (int i = 0; i < MAX_PROCS; i++) {
		struct hvd_proc *h = procs[i];

		if (!h)
			continue;
		procs[i] = NULL;
		if (h->pid > 0) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			h->pid = 0;
		}
		if (h->dir[0] && !getenv("HVD_TEST_KEEP"))
			rm_rf(h->dir);
	}
}

static void on_signal(int sig)
{
	/* meson's timeout or ^C: leave no daemon or directory behind */
	fprintf(stderr, "%s: caught signal %d, cleaning up\n", test_name, sig);
	cleanup();
	_exit(1);
}

void t_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void dump_logs(void)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i])
			hvd_dump_log(procs[i], 30);
}

void t_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failures++;
	printf("FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void t_abort_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failures++;
	printf("FAIL (fatal) %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	dump_logs();
	fflush(stdout);
	exit(1);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP %s: ", test_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(77);
}

void t_done(void)
{
	if (t_failures)
		dump_logs();
	printf("%s: %d checks, %d failed\n", test_name, t_checks, t_failures);
	fflush(stdout);
	exit(t_failures ? 1 : 0);
}

void harness_init(const char *name)
{
	struct sigaction sa = { .sa_handler = on_signal };

	test_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(cleanup);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	hvd_bin = getenv("HVD_BIN");
	if (!hvd_bin || !*hvd_bin)
		t_skip("HVD_BIN is not set (the path of build/daemon/hvd)");
	if (access(hvd_bin, X_OK) < 0)
		t_skip("HVD_BIN=%s is not executable: %s", hvd_bin, strerror(errno));
	if (curl_global_init(CURL_GLOBAL_ALL) != 0)
		t_skip("libcurl cannot be initialised");
}

const char *harness_hvd_bin(void)
{
	return hvd_bin;
}

/* ---- files ---- */

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd) < 0 ? -errno : 0;
}

bool files_equal(const char *a, const char *b)
{
	static char ba[1 << 16], bb[1 << 16];
	FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
	bool eq = fa && fb;

	while (eq) {
		size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);

		if (na != nb || memcmp(ba, bb, na) != 0)
			eq = false;
		if (na == 0)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return eq;
}

int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void make_sparse_disk(const char *path, unsigned long long size, unsigned long long data_off,
		      unsigned long long data_len, unsigned seed)
{
	static uint32_t block[1 << 18];   /* 1 MiB */
	uint32_t x = seed * 2654435761u + 1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	REQUIRE(fd >= 0, "open %s: %s", path, strerror(errno));
	if (size)
		REQUIRE(ftruncate(fd, (off_t)size) == 0, "ftruncate %s: %s", path, strerror(errno));
	for (unsigned long long done = 0; done < data_len; ) {
		size_t n = data_len - done < sizeof(block) ? (size_t)(data_len - done) : sizeof(block);

		for (size_t i = 0; i < sizeof(block) / 4; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			block[i] = x;
		}
		REQUIRE(pwrite(fd, block, n, (off_t)(data_off + done)) == (ssize_t)n, "write %s: %s", path,
			strerror(errno));
		done += n;
	}
	REQUIRE(close(fd) == 0, "close %s", path);
}

json_t *wait_op(struct hvd_proc *h, const char *id)
{
	char path[256];

	snprintf(path, sizeof(path), "/v1/operations/%s/wait?timeout=60", id);
	/* each wait is bounded by the daemon; a few of them bound a stuck op */
	for (int i = 0; i < 10; i++) {
		struct http_resp *r = http_req(h, "GET", path, NULL, NULL);
		json_t *op = NULL;

		if (r->status == 200 && jstr(r->json, "status") && strcmp(jstr(r->json, "status"), "running") != 0)
			op = json_incref(r->json);
		else if (r->status != 200)
			t_fail_at(__FILE__, __LINE__, "waiting for operation %s: %ld %.300s", id, r->status,
				  r->status ? r->body : r->curl_error);
		if (op || r->status == 0 || !hvd_alive(h)) {
			resp_free(r);
			return op;
		}
		resp_free(r);
	}
	return NULL;
}

/* Every directory under state/disks belongs to a VM that exists. */
void check_no_orphan_disks(struct hvd_proc *h)
{
	char path[PATH_LEN + 16];
	struct http_resp *r = http_req(h, "GET", "/v1/vms", NULL, NULL);
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/disks", h->state);
	d = opendir(path);
	if (!d) {
		resp_free(r);
		return;
	}
	while ((de = readdir(d))) {
		bool owned = false;
		json_t *vm;
		size_t i;

		if (de->d_name[0] == '.')
			continue;
		json_array_foreach(jget(r->json, "vms"), i, vm)
			if (jstr(vm, "id") && strcmp(jstr(vm, "id"), de->d_name) == 0)
				owned = true;
		CHECK(owned, "%s/%s is left behind: no VM has that id", path, de->d_name);
	}
	closedir(d);
	resp_free(r);
}

/* ---- daemons ---- */

static void track(struct hvd_proc *h)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i] == h)
			return;
	for (int i = 0; i < MAX_PROCS; i++)
		if (!procs[i]) {
			procs[i] = h;
			return;
		}
	t_abort_at(__FILE__, __LINE__, "too many daemons in one test");
}

void hvd_setup(struct hvd_proc *h, const char *conf)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[DIR_LEN];

	memset(h, 0, sizeof(*h));
	/* short: the socket path must fit in sun_path */
	snprintf(tmpl, sizeof(tmpl), "%s/hvdt-XXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	REQUIRE(mkdtemp(tmpl), "mkdtemp %s: %s", tmpl, strerror(errno));
	snprintf(h->dir, sizeof(h->dir), "%s", tmpl);
	track(h);
	snprintf(h->state, sizeof(h->state), "%s/state", h->dir);
	snprintf(h->run, sizeof(h->run), "%s/run", h->dir);
	snprintf(h->sock, sizeof(h->sock), "%s/run/hvd.sock", h->dir);
	snprintf(h->conf, sizeof(h->conf), "%s/hvd.conf", h->dir);
	snprintf(h->log, sizeof(h->log), "%s/hvd.log", h->dir);
	REQUIRE(write_file(h->conf, conf ? conf : "", conf ? strlen(conf) : 0) == 0, "writing %s", h->conf);
}

static int free_tcp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool have_program(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

void hvd_setup_tls(struct hvd_proc *h)
{
	char cmd[8 * PATH_LEN];
	int r;

	snprintf(h->cert, sizeof(h->cert), "%s/cert.pem", h->dir);
	snprintf(h->key, sizeof(h->key), "%s/key.pem", h->dir);
	if (have_program("openssl")) {
		snprintf(cmd, sizeof(cmd),
			 "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
			 " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '%s' -out '%s'"
			 " >'%s/gen-cert.log' 2>&1", h->key, h->cert, h->dir);
	} else if (have_program("certtool")) {
		char tmpl[PATH_LEN];
		static const char cfg[] = "cn = 127.0.0.1\nip_address = 127.0.0.1\ndns_name = localhost\n"
			"expiration_days = 2\ntls_www_server\nsigning_key\nencryption_key\n";

		snprintf(tmpl, sizeof(tmpl), "%s/cert.cfg", h->dir);
		REQUIRE(write_file(tmpl, cfg, sizeof(cfg) - 1) == 0, "writing %s", tmpl);
		snprintf(cmd, sizeof(cmd),
			 "certtool --generate-privkey --outfile '%s' >'%s/gen-cert.log' 2>&1 &&"
			 " certtool --generate-self-signed --load-privkey '%s' --template '%s' --outfile '%s'"
			 " >>'%s/gen-cert.log' 2>&1", h->key, h->dir, h->key, tmpl, h->cert, h->dir);
	} else {
		t_skip("neither openssl nor certtool is installed (needed for a test certificate)");
	}
	r = system(cmd);
	REQUIRE(r == 0, "generating a certificate failed (see %s/gen-cert.log)", h->dir);
	h->tcp_port = free_tcp_port();
	REQUIRE(h->tcp_port > 0, "no free TCP port");
}

static bool up(struct hvd_proc *h)
{
	struct http_resp *r;
	bool ok;

	if (access(h->sock, F_OK) < 0)
		return false;
	r = http_req(h, "GET", "/v1", NULL, NULL);
	ok = r->status == 200;
	resp_free(r);
	return ok;
}

void hvd_start(struct hvd_proc *h)
{
	char tcp[64];
	const char *argv[20];
	int n = 0, logfd;
	pid_t pid;

	REQUIRE(h->pid == 0, "hvd_start: a daemon is already running on %s", h->dir);
	track(h);
	argv[n++] = hvd_bin;
	argv[n++] = "--config";
	argv[n++] = h->conf;
	argv[n++] = "--state-dir";
	argv[n++] = h->state;
	argv[n++] = "--runtime-dir";
	argv[n++] = h->run;
	argv[n++] = "--listen";
	static char unix_spec[PATH_LEN + 8];
	snprintf(unix_spec, sizeof(unix_spec), "unix:%s", h->sock);
	argv[n++] = unix_spec;
	if (h->tcp_port) {
		snprintf(tcp, sizeof(tcp), "tcp:127.0.0.1:%d", h->tcp_port);
		argv[n++] = "--listen";
		argv[n++] = tcp;
		argv[n++] = "--tls-cert";
		argv[n++] = h->cert;
		argv[n++] = "--tls-key";
		argv[n++] = h->key;
	}
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	argv[n] = NULL;

	logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	REQUIRE(logfd >= 0, "open %s: %s", h->log, strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(hvd_bin, (char *const *)argv);
		dprintf(2, "exec %s: %s\n", hvd_bin, strerror(errno));
		_exit(127);
	}
	close(logfd);
	h->pid = pid;
	/* a bound for a broken daemon, not a timing assertion */
	for (int i = 0; i < 600; i++) {
		int st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			h->pid = 0;
			hvd_dump_log(h, 40);
			t_abort_at(__FILE__, __LINE__, "hvd exited during start-up (status 0x%x)", st);
		}
		if (up(h))
			return;
		usleep(50 * 1000);
	}
	hvd_dump_log(h, 40);
	t_abort_at(__FILE__, __LINE__, "hvd did not answer on %s within 30 s", h->sock);
}

int hvd_stop(struct hvd_proc *h, int sig)
{
	int st = 0;

	if (h->pid <= 0)
		return -1;
	kill(h->pid, sig);
	/* SIGTERM is an orderly stop; give it a generous bound, then kill */
	for (int i = 0; i < 600; i++) {
		if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
			h->pid = 0;
			return st;
		}
		usleep(50 * 1000);
	}
	t_fail_at(__FILE__, __LINE__, "hvd did not stop on signal %d within 30 s; killing it", sig);
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &st, 0);
	h->pid = 0;
	return st;
}

bool hvd_alive(struct hvd_proc *h)
{
	int st;

	if (h->pid <= 0)
		return false;
	if (waitpid(h->pid, &st, WNOHANG) == h->pid) {
		printf("# hvd exited: %s %d\n", WIFSIGNALED(st) ? "signal" : "status",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		h->pid = 0;
		return false;
	}
	return true;
}

long hvd_rss_kib(struct hvd_proc *h)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

bool hvd_is_asan(struct hvd_proc *h)
{
	char path[64], line[512];
	bool asan = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)h->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!asan && fgets(line, sizeof(line), f))
		asan = strstr(line, "libasan") != NULL;
	fclose(f);
	return asan;
}

void hvd_dump_log(struct hvd_proc *h, int lines)
{
	char cmd[PATH_LEN + 64];

	if (!h->log[0] || access(h->log, R_OK) < 0)
		return;
	printf("# ---- last %d lines of %s ----\n", lines, h->log);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' | sed 's/^/#   /'", lines, h->log);
	if (system(cmd) != 0)
		printf("# (cannot show the log)\n");
	fflush(stdout);
}

/* ---- HTTP with libcurl ---- */

struct buf {
	char *p;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = size * n;
	char *p = realloc(b->p, b->len + len + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, data, len);
	b->p = p;
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	/* a new status line (after 100 Continue): keep only the final block */
	if (size * n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(b->p);
		b->p = NULL;
		b->len = 0;
	}
	return on_body(data, size, n, ud);
}

static struct http_resp *perform(CURL *c, const char *method, const char *body, struct curl_slist *hl)
{
	struct http_resp *r = calloc(1, sizeof(*r));
	struct buf bb = { 0 }, hb = { 0 };
	CURLcode rc;

	REQUIRE(r, "out of memory");
	/* no 100-continue round trip unless the caller asks for one */
	bool expect = false;

	for (struct curl_slist *i = hl; i; i = i->next)
		expect |= strncasecmp(i->data, "Expect:", 7) == 0;
	if (!expect)
		hl = curl_slist_append(hl, "Expect:");
	if (body)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	/* a safety bound for a hung daemon, not a timing assertion */
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	} else {
		snprintf(r->curl_error, sizeof(r->curl_error), "%s", curl_easy_strerror(rc));
		r->status = 0;
	}
	r->body = bb.p ? bb.p : strdup("");
	r->len = bb.len;
	r->headers = hb.p ? hb.p : strdup("");
	if (r->len)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return r;
}

static struct curl_slist *headers_list(const char *const *hdrs)
{
	struct curl_slist *hl = NULL;

	for (int i = 0; hdrs && hdrs[i]; i++)
		hl = curl_slist_append(hl, hdrs[i]);
	return hl;
}

struct http_resp *http_req(struct hvd_proc *h, const char *method, const char *path,
			   const char *body, const char *const *hdrs)
{
	CURL *c = curl_easy_init();
	char url[4096];

	REQUIRE(c, "curl_easy_init");
	snprintf(url, sizeof(url), "http://hvd%s", path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->sock);
	return perform(c, method, body, headers_list(hdrs));
}

struct http_resp *http_reqf(struct hvd_proc *h, const char *method, const char *path,
			    const char *const *hdrs, const char *fmt, ...)
{
	struct http_resp *r;
	char *body;
	va_list ap;

	va_start(ap, fmt);
	REQUIRE(vasprintf(&body, fmt, ap) >= 0, "out of memory");
	va_end(ap);
	r = http_req(h, method, path, body, hdrs);
	free(body);
	return r;
}

struct http_resp *https_req(struct hvd_proc *h, const char *token, const char *method,
			    const char *path, const char *body)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[4096], auth[256];

	REQUIRE(c, "curl_easy_init");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", h->tcp_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, h->cert);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	return perform(c, method, body, hl);
}

void resp_free(struct http_resp *r)
{
	if (!r)
		return;
	json_decref(r->json);
	free(r->body);
	free(r->headers);
	free(r);
}

const char *resp_header(const struct http_resp *r, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);

	for (const char *p = r->headers; p && *p; ) {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = llen - (size_t)(v - p);
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			snprintf(buf, len, "%.*s", (int)vlen, v);
			return buf;
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return NULL;
}

json_t *jget(json_t *root, const char *dotted)
{
	char key[256];
	const char *p = dotted;
	json_t *cur = root;

	while (cur && *p) {
		size_t n = strcspn(p, ".");
		char *end;

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_is_array(cur)) {
			long i = strtol(key, &end, 10);
			cur = *end ? NULL : json_array_get(cur, (size_t)i);
		} else {
			cur = json_object_get(cur, key);
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

const char *jstr(json_t *root, const char *dotted)
{
	return json_string_value(jget(root, dotted));
}

long long jint(json_t *root, const char *dotted)
{
	json_t *v = jget(root, dotted);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

bool check_status_at(const char *file, int line, const struct http_resp *r, long status)
{
	char rid[128];
	bool ok = true;

	t_checks++;
	if (r->status != status) {
		t_fail_at(file, line, "status %ld, expected %ld (%s%s)", r->status, status,
			  r->curl_error[0] ? r->curl_error : "", r->len > 400 ? "long body" : r->body);
		ok = false;
	}
	t_checks++;
	if (r->status && !resp_header(r, "X-Request-Id", rid, sizeof(rid))) {
		t_fail_at(file, line, "no X-Request-Id on a %ld response", r->status);
		ok = false;
	}
	return ok;
}

bool check_error_at(const char *file, int line, const struct http_resp *r, long status,
		    const char *code, const char *want_field)
{
	char rid[128];
	json_t *err = json_object_get(r->json, "error");
	const char *key;
	json_t *v;
	bool ok = check_status_at(file, line, r, status);

	t_checks++;
	if (!json_is_object(err)) {
		t_fail_at(file, line, "%ld response is not {\"error\": {...}}: %.300s", r->status, r->body);
		return false;
	}
	if (json_object_size(r->json) != 1) {
		t_fail_at(file, line, "error response has members besides \"error\": %.300s", r->body);
		ok = false;
	}
	if (!json_is_string(json_object_get(err, "code")) || !json_is_string(json_object_get(err, "message")) ||
	    !json_is_string(json_object_get(err, "request_id")) || !*jstr(err, "message")) {
		t_fail_at(file, line, "error lacks code/message/request_id strings: %.300s", r->body);
		ok = false;
	}
	if (code && (!jstr(err, "code") || strcmp(jstr(err, "code"), code) != 0)) {
		t_fail_at(file, line, "error code %s, expected %s: %.300s", jstr(err, "code"), code, r->body);
		ok = false;
	}
	if (resp_header(r, "X-Request-Id", rid, sizeof(rid)) && jstr(err, "request_id") &&
	    strcmp(rid, jstr(err, "request_id")) != 0) {
		t_fail_at(file, line, "X-Request-Id %s differs from error.request_id %s", rid, jstr(err, "request_id"));
		ok = false;
	}
	json_object_foreach(err, key, v) {
		if (json_object_get(err, "field") == v && !json_is_string(v)) {
			t_fail_at(file, line, "error.field is not a string: %.300s", r->body);
			ok = false;
		}
	}
	if (want_field) {
		const char *f = jstr(err, "field");

		t_checks++;
		if (!f || strcmp(f, want_field) != 0) {
			t_fail_at(file, line, "error.field %s, expected %s: %.300s", f ? f : "(none)", want_field, r->body);
			ok = false;
		}
	}
	return ok;
}

/* ---- raw sockets ---- */

int raw_connect(struct hvd_proc *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(h->sock) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, h->sock, strlen(h->sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int raw_connect_tcp(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* True when buf holds a complete response: headers and, when given,
 * Content-Length bytes of body. */
static bool response_complete(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	size_t hlen;

	if (!end)
		return false;
	hlen = (size_t)(end - buf) + 4;
	for (cl = buf; cl && cl < end; cl = memchr(cl, '\n', (size_t)(end - cl))) {
		if (*cl == '\n')
			cl++;
		if (strncasecmp(cl, "Content-Length:", 15) == 0)
			return len >= hlen + strtoul(cl + 15, NULL, 10);
	}
	return false; /* no length: read until the peer closes */
}

ssize_t raw_exchange(int fd, const void *data, size_t len, bool shut_wr, int timeout_ms, char **ret_out)
{
	const char *p = data;
	size_t cap = 4096, got = 0;
	char *out = malloc(cap + 1);
	bool peer_gone = false;

	REQUIRE(out, "out of memory");
	/* send, but read whatever comes back meanwhile so a server that answers
	 * early (413) and stops reading does not deadlock us */
	while (len && !peer_gone) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT | POLLIN };

		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		if (pfd.revents & POLLIN) {
			ssize_t n;

			if (got + 4096 > cap) {
				cap *= 2;
				out = realloc(out, cap + 1);
				REQUIRE(out, "out of memory");
			}
			n = recv(fd, out + got, cap - got, MSG_DONTWAIT);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0)
				peer_gone = true;
		}
		if (pfd.revents & (POLLERR | POLLHUP))
			peer_gone = true;
		if (!peer_gone && (pfd.revents & POLLOUT)) {
			ssize_t w = send(fd, p, len > 65536 ? 65536 : len, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (w > 0) {
				p += w;
				len -= (size_t)w;
			}
		}
	}
	if (shut_wr)
		shutdown(fd, SHUT_WR);
	while (!response_complete(out, got)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		if (got + 4096 > cap) {
			cap *= 2;
			out = realloc(out, cap + 1);
			REQUIRE(out, "out of memory");
		}
		n = recv(fd, out + got, cap - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	*ret_out = out;
	return (ssize_t)got;
}

int raw_status(const char *resp, size_t len)
{
	int status;

	if (len < 12 || strncmp(resp, "HTTP/1.", 7) != 0)
		return 0;
	if (sscanf(resp + 8, " %3d", &status) != 1)
		return 0;
	return status;
}
