/*
 * fuzz-kubeconfig.c: a kubeconfig file (YAML, lib/kubeconfig.c) as
 * kubernetes.kubeconfig names it. The input is written to a scratch file
 * which kubeconfig_load() reads, as it reads ~/.kube/config.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "../lib/kubeconfig.h"

static struct config cfg = CONFIG_INIT;
static char *dir, *path;

static void remove_scratch(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char *text;

	dir = xstrfmt("%s/sre-fuzz-kubeconfig.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	path = xstrfmt("%s/config", dir);
	text = xstrfmt("[kubernetes]\n\tkubeconfig = %s\n", path);
	fuzz_config(&cfg, text);
	free(text);
	atexit(remove_scratch);
	/* Read the file, never a pod's service account. */
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBECONFIG");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kubeconfig kc = KUBECONFIG_INIT;
	struct strbuf err = STRBUF_INIT;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
	kubeconfig_load(&kc, &cfg, NULL, &err);
	kubeconfig_release(&kc);
	strbuf_release(&err);
	return 0;
}
