# sre.bash: bash completion for sre(1).
#
# Nothing here names a command or a command's option: sre is asked, so the
# completion never lags the binary. `sre --list-cmds` gives the commands,
# `sre <cmd> --completion-helper` a command's long options (those that take
# a value end in '='), `sre incident --completion-helper` the subcommands of
# incident, `sre config --known-keys` the configuration keys and
# `sre incident list --porcelain` the open incidents, and
# `sre incident --next-states <id>` the states an incident may move to next.
# Only the global
# options, which come before any command, are listed here.

# Run sre with the global options the user typed (-C, -c, --db), so that
# ids and keys come from the store and directory the command will use.
_sre_ask()
{
	"${_sre_cmd[@]}" "$@" 2>/dev/null
}

# Does option $1 of "$cmd $sub" take a value? Long options from the
# completion helper, short ones from the option list of -h.
_sre_takes_value()
{
	if [[ $1 == --* ]]; then
		[[ " $(_sre_ask "$cmd" ${sub:+"$sub"} --completion-helper) " == *" $1= "* ]]
	else
		_sre_ask "$cmd" ${sub:+"$sub"} -h | grep -q "^ *$1, --[a-z-]* <"
	fi
}

# The states incident $2 may move to next (every state without $2), in the
# spelling the word $1 began: ANALYSIS_COMPLETE, or analysis-complete.
_sre_states()
{
	if [[ $1 == [a-z]* ]]; then
		_sre_ask incident --next-states ${2:+"$2"} | sed 's/^INCIDENT_//' | tr 'A-Z_' 'a-z-'
	else
		_sre_ask incident --next-states ${2:+"$2"}
	fi
}

# Complete the word $2 (the word being typed by default) from the words in
# $1; a word that ends in '=' takes its value right after it, no space.
_sre_reply()
{
	COMPREPLY=($(compgen -W "$1" -- "${2-$cur}"))
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi
}

_sre()
{
	local -a words=() _sre_cmd=("${COMP_WORDS[0]}")
	local i w glue=0 cur prev opt cmd="" sub="" nargs=0 id=""

	# bash splits "--opt=value" at '=' (COMP_WORDBREAKS): glue it back.
	for ((i = 0; i <= COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((glue)); then
			words[-1]+=$w
			glue=0
		elif [[ $w == = && ${#words[@]} -gt 1 ]]; then
			words[-1]+="="
			glue=1
		else
			words+=("$w")
		fi
	done
	cur=${words[-1]}
	prev=${words[-2]}

	# The global options, then the command, its subcommand and arguments.
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if [[ -z $cmd ]]; then
			case $w in
			-C | -c | --db)
				((i + 1 < ${#words[@]} - 1)) && _sre_cmd+=("$w" "${words[i + 1]}")
				((i++)) ;;
			--db=*) _sre_cmd+=("$w") ;;
			-*) ;;
			*) cmd=$w ;;
			esac
		elif [[ $cmd == incident && -z $sub ]]; then
			[[ $w != -* ]] && sub=$w
		elif [[ $w == -?* ]]; then
			_sre_takes_value "$w" && ((i++))
		else
			((nargs++ == 0)) && id=$w
		fi
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-C | --db) ;; # a directory, a file: bash's default
		-c) [[ $cur == *=* ]] ||
			_sre_reply "$(_sre_ask config --known-keys | awk '{ print $1 "=" }')" ;;
		*)
			if [[ $cur == -* ]]; then
				_sre_reply "-C -c --db= --version --help"
			else
				_sre_reply "$(_sre_ask --list-cmds)"
			fi
			;;
		esac
		return
	fi

	# The value of an option, given as "--opt value" or "--opt=value".
	opt=$prev
	[[ $cur == --*=* ]] && opt=${cur%%=*}
	case $cmd:$opt in
	*:--state | *:--from) _sre_reply "$(_sre_states "${cur#"$opt="}")" "${cur#"$opt="}"; return ;;
	*:--severity) _sre_reply "critical high medium low" "${cur#"$opt="}"; return ;;
	config:--type | config:-t) _sre_reply "bool int duration path" "${cur#"$opt="}"; return ;;
	esac
	# Any other value (a file, a title, a reason) is the user's to type.
	[[ $cur == --*=* ]] && return
	[[ $prev == -?* ]] && _sre_takes_value "$prev" && return

	if [[ $cmd == incident && -z $sub ]]; then
		_sre_reply "$(_sre_ask incident --completion-helper)"
	elif [[ $cur == -* ]]; then
		_sre_reply "$(_sre_ask "$cmd" ${sub:+"$sub"} --completion-helper)"
	elif [[ $cmd == help && $nargs -eq 0 ]]; then
		_sre_reply "$(_sre_ask --list-cmds)"
	elif [[ $cmd == config && $nargs -eq 0 ]]; then
		_sre_reply "get set unset list $(_sre_ask config --known-keys | awk '{ print $1 }')"
	elif [[ $cmd == config && $nargs -eq 1 && $id =~ ^(get|set|unset)$ ]]; then
		_sre_reply "$(_sre_ask config --known-keys | awk '{ print $1 }')"
	elif [[ $cmd == incident ]]; then
		case $sub:$nargs in
		show:0 | transition:0 | comment:0 | ack:0 | resolve:0 | close:0)
			_sre_reply "$(_sre_ask incident list --porcelain)" ;;
		transition:1) _sre_reply "$(_sre_states "$cur" "$id")" ;;
		esac
	fi
}

complete -o default -F _sre sre
