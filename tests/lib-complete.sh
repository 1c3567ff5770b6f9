# lib-complete.sh: what the bash completion of sre offers, as a test sees it.
#
#   complete_bash sre incident transition 3 ana
#       prints each word completions/sre.bash offers for the last word,
#       one per line, with the words before it as COMP_WORDS.

complete_bash() {
	bash -c '
		. "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_sre || exit 1
		printf "%s\n" "${COMPREPLY[@]}"
	' complete_bash "$SRE_BUILD_DIR/completions/sre.bash" "$@"
}
