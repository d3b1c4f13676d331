/*
 * core.sharedRepository, as git applies it (setup.c's git_config_perm and
 * path.c's calc_shared_perm/adjust_shared_perm): files that pushseal
 * writes into a repository shared with a group stay readable and
 * writable by that group, whatever pushseal's umask.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int ps_shared_perm(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf v = GIT_BUF_INIT;
	int perm = 0;
	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&v, cfg, "core.sharedRepository") == 0) {
		const char *s = v.ptr;
		if (!strcasecmp(s, "group") || !strcasecmp(s, "true") || !strcmp(s, "1"))
			perm = 0660;
		else if (!strcasecmp(s, "all") || !strcasecmp(s, "world") || !strcasecmp(s, "everybody") || !strcmp(s, "2"))
			perm = 0664;
		else if (s[0] == '0' && s[1]) {
			char *end = NULL;
			long mode = strtol(s, &end, 8);
			if (end && !*end && mode > 0 && mode <= 0777)
				perm = -(int)(mode | 0600); /* an exact mode; the owner keeps rw */
		}
	}
	git_buf_dispose(&v);
	git_config_free(cfg);
	return perm;
}

void ps_adjust_shared_perm(int perm, const char *path)
{
	struct stat st;
	mode_t mode, tweak;
	if (perm == 0 || lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
		return;
	mode = st.st_mode;
	tweak = (mode_t)(perm < 0 ? -perm : perm);
	if (!(mode & S_IWUSR))
		tweak &= ~0222;
	if (mode & S_IXUSR)
		tweak |= (tweak & 0444) >> 2; /* read bits become execute bits */
	mode = perm < 0 ? (mode & ~(mode_t)0777) | tweak : mode | tweak;
	if (S_ISDIR(st.st_mode)) {
		mode |= S_ISGID;
		mode |= (mode & 0444) >> 2;
	}
	if ((mode & 07777) != (st.st_mode & 07777))
		chmod(path, mode & 07777);
}
