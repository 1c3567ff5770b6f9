/*
 * lazy-libgit2.c: the libgit2 functions sre calls, loading libgit2 in
 * git_libgit2_init(); see lazy-load.h for why.
 *
 * Each function is defined under libgit2's own name with the prototype
 * of <git2.h> (so the compiler checks it) and forwards to the real one.
 * Every use of libgit2 in sre starts with git_libgit2_init() and checks
 * it, as libgit2 asks: that is where the library is loaded, and where a
 * failure to load it is returned (-1, with git_error_last() saying why,
 * as for any libgit2 error). git_libgit2_shutdown(), git_error_last()
 * and the functions that free are safe without the library (there is
 * nothing to shut down or free). Any other function called before a
 * successful git_libgit2_init() is a bug in sre: it says so and aborts.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>

#include "lazy-load.h"

#ifndef SRE_LIBGIT2_SONAME
#define SRE_LIBGIT2_SONAME "libgit2.so." LIBGIT2_SOVERSION
#endif

/*
 * FN(name, return type, parameters, arguments); VOID_FN for those that
 * return nothing; BY_HAND for the three written out below.
 */
#define LIBGIT2_FUNCTIONS(FN, VOID_FN, BY_HAND) \
	FN(git_blob_create_from_buffer, int, \
	   (git_oid *id, git_repository *repo, const void *buffer, size_t len), \
	   (id, repo, buffer, len)) \
	VOID_FN(git_blob_free, (git_blob *blob), (blob)) \
	FN(git_blob_lookup, int, \
	   (git_blob **blob, git_repository *repo, const git_oid *id), \
	   (blob, repo, id)) \
	FN(git_blob_rawcontent, const void *, (const git_blob *blob), (blob)) \
	FN(git_blob_rawsize, git_object_size_t, (const git_blob *blob), (blob)) \
	FN(git_branch_is_checked_out, int, (const git_reference *branch), (branch)) \
	FN(git_branch_lookup, int, \
	   (git_reference **out, git_repository *repo, const char *branch_name, \
	    git_branch_t branch_type), \
	   (out, repo, branch_name, branch_type)) \
	FN(git_branch_name_is_valid, int, (int *valid, const char *name), (valid, name)) \
	VOID_FN(git_buf_dispose, (git_buf *buffer), (buffer)) \
	FN(git_commit_author, const git_signature *, (const git_commit *commit), (commit)) \
	FN(git_commit_create, int, \
	   (git_oid *id, git_repository *repo, const char *update_ref, \
	    const git_signature *author, const git_signature *committer, \
	    const char *message_encoding, const char *message, const git_tree *tree, \
	    size_t parent_count, const git_commit *parents[]), \
	   (id, repo, update_ref, author, committer, message_encoding, message, tree, \
	    parent_count, parents)) \
	VOID_FN(git_commit_free, (git_commit *commit), (commit)) \
	FN(git_commit_id, const git_oid *, (const git_commit *commit), (commit)) \
	FN(git_commit_lookup, int, \
	   (git_commit **commit, git_repository *repo, const git_oid *id), \
	   (commit, repo, id)) \
	FN(git_commit_lookup_prefix, int, \
	   (git_commit **commit, git_repository *repo, const git_oid *id, size_t len), \
	   (commit, repo, id, len)) \
	FN(git_commit_message, const char *, (const git_commit *commit), (commit)) \
	FN(git_commit_parent, int, \
	   (git_commit **out, const git_commit *commit, unsigned int n), \
	   (out, commit, n)) \
	FN(git_commit_parent_id, const git_oid *, \
	   (const git_commit *commit, unsigned int n), \
	   (commit, n)) \
	FN(git_commit_parentcount, unsigned int, (const git_commit *commit), (commit)) \
	FN(git_commit_summary, const char *, (git_commit *commit), (commit)) \
	FN(git_commit_time, git_time_t, (const git_commit *commit), (commit)) \
	FN(git_commit_tree, int, \
	   (git_tree **tree_out, const git_commit *commit), \
	   (tree_out, commit)) \
	FN(git_commit_tree_id, const git_oid *, (const git_commit *commit), (commit)) \
	VOID_FN(git_config_free, (git_config *cfg), (cfg)) \
	FN(git_config_get_string_buf, int, \
	   (git_buf *out, const git_config *cfg, const char *name), \
	   (out, cfg, name)) \
	VOID_FN(git_config_iterator_free, (git_config_iterator *iter), (iter)) \
	FN(git_config_iterator_new, int, \
	   (git_config_iterator **out, const git_config *cfg), \
	   (out, cfg)) \
	FN(git_config_next, int, \
	   (git_config_entry **entry, git_config_iterator *iter), \
	   (entry, iter)) \
	FN(git_credential_ssh_key_from_agent, int, \
	   (git_credential **out, const char *username), \
	   (out, username)) \
	FN(git_credential_username_new, int, \
	   (git_credential **out, const char *username), \
	   (out, username)) \
	FN(git_credential_userpass_plaintext_new, int, \
	   (git_credential **out, const char *username, const char *password), \
	   (out, username, password)) \
	VOID_FN(git_diff_free, (git_diff *diff), (diff)) \
	FN(git_diff_get_delta, const git_diff_delta *, \
	   (const git_diff *diff, size_t idx), \
	   (diff, idx)) \
	FN(git_diff_num_deltas, size_t, (const git_diff *diff), (diff)) \
	FN(git_diff_options_init, int, \
	   (git_diff_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_diff_to_buf, int, \
	   (git_buf *out, git_diff *diff, git_diff_format_t format), \
	   (out, diff, format)) \
	FN(git_diff_tree_to_tree, int, \
	   (git_diff **diff, git_repository *repo, git_tree *old_tree, git_tree *new_tree, \
	    const git_diff_options *opts), \
	   (diff, repo, old_tree, new_tree, opts)) \
	VOID_FN(git_error_clear, (void), ()) \
	BY_HAND(git_error_last) \
	FN(git_fetch_options_init, int, \
	   (git_fetch_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_graph_descendant_of, int, \
	   (git_repository *repo, const git_oid *commit, const git_oid *ancestor), \
	   (repo, commit, ancestor)) \
	VOID_FN(git_index_conflict_iterator_free, (git_index_conflict_iterator *iterator), \
		(iterator)) \
	FN(git_index_conflict_iterator_new, int, \
	   (git_index_conflict_iterator **iterator_out, git_index *index), \
	   (iterator_out, index)) \
	FN(git_index_conflict_next, int, \
	   (const git_index_entry **ancestor_out, const git_index_entry **our_out, \
	    const git_index_entry **their_out, git_index_conflict_iterator *iterator), \
	   (ancestor_out, our_out, their_out, iterator)) \
	VOID_FN(git_index_free, (git_index *index), (index)) \
	FN(git_index_has_conflicts, int, (const git_index *index), (index)) \
	FN(git_index_write_tree_to, int, \
	   (git_oid *out, git_index *index, git_repository *repo), \
	   (out, index, repo)) \
	BY_HAND(git_libgit2_init) \
	BY_HAND(git_libgit2_shutdown) \
	FN(git_message_prettify, int, \
	   (git_buf *out, const char *message, int strip_comments, char comment_char), \
	   (out, message, strip_comments, comment_char)) \
	VOID_FN(git_object_free, (git_object *object), (object)) \
	FN(git_object_id, const git_oid *, (const git_object *obj), (obj)) \
	VOID_FN(git_odb_free, (git_odb *db), (db)) \
	FN(git_odb_hash, int, \
	   (git_oid *out, const void *data, size_t len, git_object_t type), \
	   (out, data, len, type)) \
	FN(git_odb_read_header, int, \
	   (size_t *len_out, git_object_t *type_out, git_odb *db, const git_oid *id), \
	   (len_out, type_out, db, id)) \
	FN(git_oid_equal, int, (const git_oid *a, const git_oid *b), (a, b)) \
	FN(git_oid_fromstrn, int, \
	   (git_oid *out, const char *str, size_t length), \
	   (out, str, length)) \
	FN(git_oid_tostr, char *, (char *out, size_t n, const git_oid *id), (out, n, id)) \
	VOID_FN(git_patch_free, (git_patch *patch), (patch)) \
	FN(git_patch_from_buffers, int, \
	   (git_patch **out, const void *old_buffer, size_t old_len, const char *old_as_path, \
	    const void *new_buffer, size_t new_len, const char *new_as_path, \
	    const git_diff_options *opts), \
	   (out, old_buffer, old_len, old_as_path, new_buffer, new_len, new_as_path, opts)) \
	FN(git_patch_to_buf, int, (git_buf *out, git_patch *patch), (out, patch)) \
	FN(git_proxy_options_init, int, \
	   (git_proxy_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_push_options_init, int, \
	   (git_push_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_reference_create, int, \
	   (git_reference **out, git_repository *repo, const char *name, const git_oid *id, \
	    int force, const char *log_message), \
	   (out, repo, name, id, force, log_message)) \
	FN(git_reference_create_matching, int, \
	   (git_reference **out, git_repository *repo, const char *name, const git_oid *id, \
	    int force, const git_oid *current_id, const char *log_message), \
	   (out, repo, name, id, force, current_id, log_message)) \
	FN(git_reference_delete, int, (git_reference *ref), (ref)) \
	VOID_FN(git_reference_free, (git_reference *ref), (ref)) \
	FN(git_reference_lookup, int, \
	   (git_reference **out, git_repository *repo, const char *name), \
	   (out, repo, name)) \
	FN(git_reference_name_to_id, int, \
	   (git_oid *out, git_repository *repo, const char *name), \
	   (out, repo, name)) \
	FN(git_reference_peel, int, \
	   (git_object **out, const git_reference *ref, git_object_t type), \
	   (out, ref, type)) \
	FN(git_reference_remove, int, (git_repository *repo, const char *name), (repo, name)) \
	FN(git_reference_symbolic_target, const char *, (const git_reference *ref), (ref)) \
	FN(git_reference_type, git_reference_t, (const git_reference *ref), (ref)) \
	FN(git_remote_connect, int, \
	   (git_remote *remote, git_direction direction, const git_remote_callbacks *callbacks, \
	    const git_proxy_options *proxy_opts, const git_strarray *custom_headers), \
	   (remote, direction, callbacks, proxy_opts, custom_headers)) \
	FN(git_remote_create_options_init, int, \
	   (git_remote_create_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_remote_create_with_opts, int, \
	   (git_remote **out, const char *url, const git_remote_create_options *opts), \
	   (out, url, opts)) \
	FN(git_remote_disconnect, int, (git_remote *remote), (remote)) \
	FN(git_remote_fetch, int, \
	   (git_remote *remote, const git_strarray *refspecs, const git_fetch_options *opts, \
	    const char *reflog_message), \
	   (remote, refspecs, opts, reflog_message)) \
	VOID_FN(git_remote_free, (git_remote *remote), (remote)) \
	FN(git_remote_init_callbacks, int, \
	   (git_remote_callbacks *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_remote_ls, int, \
	   (const git_remote_head ***out, size_t *size, git_remote *remote), \
	   (out, size, remote)) \
	FN(git_remote_push, int, \
	   (git_remote *remote, const git_strarray *refspecs, const git_push_options *opts), \
	   (remote, refspecs, opts)) \
	FN(git_repository_config_snapshot, int, \
	   (git_config **out, git_repository *repo), \
	   (out, repo)) \
	VOID_FN(git_repository_free, (git_repository *repo), (repo)) \
	FN(git_repository_head_unborn, int, (git_repository *repo), (repo)) \
	FN(git_repository_init_ext, int, \
	   (git_repository **out, const char *repo_path, git_repository_init_options *opts), \
	   (out, repo_path, opts)) \
	FN(git_repository_init_options_init, int, \
	   (git_repository_init_options *opts, unsigned int version), \
	   (opts, version)) \
	FN(git_repository_is_bare, int, (const git_repository *repo), (repo)) \
	FN(git_repository_odb, int, (git_odb **out, git_repository *repo), (out, repo)) \
	FN(git_repository_open_ext, int, \
	   (git_repository **out, const char *path, unsigned int flags, const char *ceiling_dirs), \
	   (out, path, flags, ceiling_dirs)) \
	FN(git_repository_set_ident, int, \
	   (git_repository *repo, const char *name, const char *email), \
	   (repo, name, email)) \
	FN(git_revert_commit, int, \
	   (git_index **out, git_repository *repo, git_commit *revert_commit, \
	    git_commit *our_commit, unsigned int mainline, \
	    const git_merge_options *merge_options), \
	   (out, repo, revert_commit, our_commit, mainline, merge_options)) \
	FN(git_revparse_single, int, \
	   (git_object **out, git_repository *repo, const char *spec), \
	   (out, repo, spec)) \
	VOID_FN(git_revwalk_free, (git_revwalk *walk), (walk)) \
	FN(git_revwalk_new, int, (git_revwalk **out, git_repository *repo), (out, repo)) \
	FN(git_revwalk_next, int, (git_oid *out, git_revwalk *walk), (out, walk)) \
	FN(git_revwalk_push_head, int, (git_revwalk *walk), (walk)) \
	FN(git_revwalk_sorting, int, \
	   (git_revwalk *walk, unsigned int sort_mode), \
	   (walk, sort_mode)) \
	VOID_FN(git_signature_free, (git_signature *sig), (sig)) \
	FN(git_signature_new, int, \
	   (git_signature **out, const char *name, const char *email, git_time_t time, \
	    int offset), \
	   (out, name, email, time, offset)) \
	FN(git_tree_create_updated, int, \
	   (git_oid *out, git_repository *repo, git_tree *baseline, size_t nupdates, \
	    const git_tree_update *updates), \
	   (out, repo, baseline, nupdates, updates)) \
	FN(git_tree_entry_byindex, const git_tree_entry *, \
	   (const git_tree *tree, size_t idx), \
	   (tree, idx)) \
	FN(git_tree_entry_bypath, int, \
	   (git_tree_entry **out, const git_tree *root, const char *path), \
	   (out, root, path)) \
	FN(git_tree_entry_filemode, git_filemode_t, (const git_tree_entry *entry), (entry)) \
	VOID_FN(git_tree_entry_free, (git_tree_entry *entry), (entry)) \
	FN(git_tree_entry_name, const char *, (const git_tree_entry *entry), (entry)) \
	FN(git_tree_entry_id, const git_oid *, (const git_tree_entry *entry), (entry)) \
	FN(git_tree_entry_type, git_object_t, (const git_tree_entry *entry), (entry)) \
	FN(git_tree_entrycount, size_t, (const git_tree *tree), (tree)) \
	VOID_FN(git_tree_free, (git_tree *tree), (tree)) \
	FN(git_tree_id, const git_oid *, (const git_tree *tree), (tree)) \
	FN(git_tree_lookup, int, \
	   (git_tree **out, git_repository *repo, const git_oid *id), \
	   (out, repo, id)) \
	VOID_FN(git_treebuilder_free, (git_treebuilder *bld), (bld)) \
	FN(git_treebuilder_new, int, \
	   (git_treebuilder **out, git_repository *repo, const git_tree *source), \
	   (out, repo, source)) \
	FN(git_treebuilder_write, int, (git_oid *id, git_treebuilder *bld), (id, bld))


#define SLOT_OF(name) SLOT_##name,
#define SLOT_FN(name, ret, params, args) SLOT_OF(name)
#define SLOT_VOID_FN(name, params, args) SLOT_OF(name)
enum { LIBGIT2_FUNCTIONS(SLOT_FN, SLOT_VOID_FN, SLOT_OF) NR_SLOTS };

#define NAME_OF(name) #name,
#define NAME_FN(name, ret, params, args) NAME_OF(name)
#define NAME_VOID_FN(name, params, args) NAME_OF(name)
static const char *const names[] = { LIBGIT2_FUNCTIONS(NAME_FN, NAME_VOID_FN, NAME_OF) };

static void *slots[NR_SLOTS];
static struct lazy_library libgit2 = LAZY_LIBRARY_INIT(SRE_LIBGIT2_SONAME, names, slots);

#define REAL(name) ((__typeof__(&name))slots[SLOT_##name])

/* The real function behind name, which must have been loaded by now. */
static void *loaded(size_t slot)
{
	if (!lazy_loaded(&libgit2)) {
		fprintf(stderr, "BUG: %s() called before git_libgit2_init() succeeded\n",
			names[slot]);
		abort();
	}
	return slots[slot];
}

#define DEFINE_FN(name, ret, params, args) \
	ret name params \
	{ \
		return ((__typeof__(&name))loaded(SLOT_##name)) args; \
	}
#define DEFINE_VOID_FN(name, params, args) \
	void name params \
	{ \
		if (lazy_loaded(&libgit2)) \
			REAL(name) args; \
	}
#define DEFINE_BY_HAND(name)
LIBGIT2_FUNCTIONS(DEFINE_FN, DEFINE_VOID_FN, DEFINE_BY_HAND)

int git_libgit2_init(void)
{
	if (lazy_load(&libgit2) < 0)
		return -1;
	return REAL(git_libgit2_init)();
}

int git_libgit2_shutdown(void)
{
	if (!lazy_loaded(&libgit2))
		return 0;
	return REAL(git_libgit2_shutdown)();
}

const git_error *git_error_last(void)
{
	static const git_error not_loaded = {
		(char *)"cannot load " SRE_LIBGIT2_SONAME, GIT_ERROR_OS
	};

	if (!lazy_loaded(&libgit2))
		return &not_loaded;
	return REAL(git_error_last)();
}

const char *lazy_libgit2_soname(void)
{
	return libgit2.soname;
}
