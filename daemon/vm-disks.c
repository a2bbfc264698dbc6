/* vm-disks.c - the directory of disks hvd made for a VM (clones). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvd.h"
#include "log.h"
#include "vm-disks.h"

void vm_disks_dir(struct hvd *hvd, const char *vm_id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/disks/%s", hvd->cfg.state_dir, vm_id);
}

int vm_disks_mkdir(struct hvd *hvd, const char *vm_id)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/disks", hvd->cfg.state_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	vm_disks_dir(hvd, vm_id, path, sizeof(path));
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void vm_disks_remove_path(const char *dir)
{
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) < 0)
			log_warning("disks: cannot remove %s/%s: %m", dir, de->d_name);
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warning("disks: cannot remove %s: %m", dir);
}

void vm_disks_remove_dir(struct hvd *hvd, const char *vm_id)
{
	char path[4096];

	vm_disks_dir(hvd, vm_id, path, sizeof(path));
	vm_disks_remove_path(path);
}

void vm_dirs_sweep_orphans(struct hvd *hvd, const char *sub, const char *what,
			   void (*remove)(struct hvd *hvd, const char *vm_id))
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", hvd->cfg.state_dir, sub);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct store_vm vm;

		if (de->d_name[0] == '.' || strlen(de->d_name) != 36)
			continue;
		if (store_vm_get(hvd->store, de->d_name, &vm) == 0) {
			store_vm_clear(&vm);
			continue;
		}
		log_notice("recovery: removing %s of VM %s, which does not exist (%s/%s)", what,
			   de->d_name, path, de->d_name);
		remove(hvd, de->d_name);
	}
	closedir(d);
}

void vm_disks_remove_owned(struct hvd *hvd, const struct store_vm *vm)
{
	vm_disks_remove_dir(hvd, vm->id);
}
