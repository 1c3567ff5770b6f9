/*
 * fix-target.c: what `sre fix` may act on, read from [service "<name>"]
 * and nowhere else (see fix.h).
 */
#include "fix.h"
#include "scout.h"
#include "util.h"

static const char *const runtime_names[] = { "none", "docker", "kubernetes", "process" };

const char *fix_runtime_name(enum fix_runtime r)
{
	return (unsigned)r < ARRAY_SIZE(runtime_names) ? runtime_names[r] : "none";
}

static const char *key_of(struct strbuf *key, const char *service, const char *name)
{
	return config_key_of(key, "service", service, name);
}

static char *string_or(const struct config *cfg, struct strbuf *key, const char *service,
		       const char *name, const char *fallback)
{
	const char *v = config_get_string(cfg, key_of(key, service, name));

	return v && *v ? xstrdup(v) : fallback ? xstrdup(fallback) : NULL;
}

static int read_argv(struct strvec *out, const struct config *cfg, struct strbuf *key,
		     const char *service, const char *name, struct strbuf *err)
{
	const char *v = config_get_string(cfg, key_of(key, service, name));
	const char *why = NULL;

	if (!v)
		return 0;
	if (split_shell_words(out, v, &why) < 0 || !out->nr) {
		strbuf_addf(err, "%s: %s", key->buf, why ? why : "an empty command");
		return -1;
	}
	return 0;
}

int fix_target_read(struct fix_target *out, const struct config *cfg, const char *service,
		    struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	struct strvec names = STRVEC_INIT, ns = STRVEC_INIT;
	const char *runtime;
	int known = 0, ret = -1;

	config_subsections(cfg, "service", &names);
	for (size_t i = 0; i < names.nr && !known; i++)
		known = !strcmp(names.v[i], service);
	strvec_clear(&names);
	if (!known) {
		strbuf_addf(err, "%s is not a configured service: sre acts only on a [service \"%s\"] "
			    "section's targets", service, service);
		goto out;
	}
	out->service = xstrdup(service);
	runtime = config_get_string(cfg, key_of(&key, service, "runtime"));
	if (!runtime)
		out->runtime = RUNTIME_NONE;
	else if (!strcmp(runtime, "docker"))
		out->runtime = RUNTIME_DOCKER;
	else if (!strcmp(runtime, "kubernetes"))
		out->runtime = RUNTIME_KUBERNETES;
	else if (!strcmp(runtime, "process"))
		out->runtime = RUNTIME_PROCESS;
	else {
		strbuf_addf(err, "%s is \"%s\": it takes docker, kubernetes or process", key.buf, runtime);
		goto out;
	}
	out->container = string_or(cfg, &key, service, "container", service);
	out->deployment = string_or(cfg, &key, service, "deployment", service);
	config_list(cfg, "kubernetes.namespace", ",", &ns);
	out->namespace = string_or(cfg, &key, service, "namespace", ns.nr ? ns.v[0] : "default");
	strvec_clear(&ns);
	if (config_get_string(cfg, key_of(&key, service, "pidfile")) &&
	    config_get_path(cfg, key.buf, &out->pidfile)) {
		strbuf_addf(err, "%s is not a path", key.buf);
		goto out;
	}
	out->manifest = string_or(cfg, &key, service, "manifest", NULL);
	if (out->manifest && (out->manifest[0] == '/' || strstr(out->manifest, ".."))) {
		strbuf_addf(err, "%s is \"%s\": it must be a path inside core.repo", key.buf,
			    out->manifest);
		goto out;
	}
	if (config_get_int(cfg, key_of(&key, service, "max-replicas"), &out->max_replicas) < 0 ||
	    out->max_replicas < 0) {
		strbuf_addf(err, "%s is not a whole number", key.buf);
		goto out;
	}
	out->timeout_ms = FIX_COMMAND_TIMEOUT_MS;
	if (config_get_duration_ms(cfg, key_of(&key, service, "timeout"), &out->timeout_ms) < 0 ||
	    out->timeout_ms <= 0) {
		strbuf_addf(err, "%s is not a duration such as 30s or 2m", key.buf);
		goto out;
	}
	if (read_argv(&out->start, cfg, &key, service, "start", err) < 0 ||
	    read_argv(&out->stop, cfg, &key, service, "stop", err) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&key);
	return ret;
}

void fix_target_release(struct fix_target *t)
{
	free(t->service);
	free(t->container);
	free(t->namespace);
	free(t->deployment);
	free(t->pidfile);
	strvec_clear(&t->start);
	strvec_clear(&t->stop);
	free(t->manifest);
	memset(t, 0, sizeof(*t));
	strvec_init(&t->start);
	strvec_init(&t->stop);
}
