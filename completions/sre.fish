# sre.fish: fish completion for sre(1).
#
# As in completions/sre.bash, nothing here names a command or a command's
# option: sre is asked. `sre --list-cmds` gives the commands,
# `sre <cmd> --completion-helper` a command's long options (those that take
# a value end in '='), `sre incident --completion-helper` the subcommands of
# incident, `sre config --known-keys` the configuration keys and
# `sre incident list --porcelain` the open incidents, and
# `sre incident --next-states <id>` the states an incident may move to next.
# Only the global
# options, which come before any command, are listed here.

# Run sre with the global options typed (-C, -c, --db), so that ids and
# keys come from the store and directory the command will use.
function __sre_ask
    $__sre_cmd $argv 2>/dev/null
end

# The states incident $argv[2] may move to next (every state without it),
# in the spelling the word $argv[1] began: ANALYSIS_COMPLETE, or
# analysis-complete.
function __sre_states -a word id
    set -l id_arg
    test -n "$id"; and set id_arg $id
    if string match -qr -- '^[a-z]' $word
        __sre_ask incident --next-states $id_arg | string replace -r '^INCIDENT_' '' | string lower | string replace -a -- _ -
    else
        __sre_ask incident --next-states $id_arg
    end
end

# Does option $argv[1] of the command being typed take a value? Long
# options from the completion helper, short ones from the options of -h.
function __sre_takes_value -a opt
    if string match -q -- '--*' $opt
        contains -- $opt= (__sre_ask $__sre_where --completion-helper | string split -n ' ')
    else
        __sre_ask $__sre_where -h | string match -qr -- "^ *$opt, --[a-z-]* <"
    end
end

function __sre_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l prev $words[-1]
    set -l cmd
    set -l sub
    set -l nargs 0
    set -l id
    set -g __sre_cmd $words[1]
    set -g __sre_where

    # The global options, then the command, its subcommand and arguments.
    set -l i 2
    while test $i -le (count $words)
        set -l w $words[$i]
        if test -z "$cmd"
            switch $w
                case -C -c --db
                    set i (math $i + 1)
                    test $i -le (count $words); and set -a __sre_cmd $w $words[$i]
                case '--db=*'
                    set -a __sre_cmd $w
                case '-*'
                case '*'
                    set cmd $w
                    set __sre_where $cmd
            end
        else if test "$cmd" = incident -a -z "$sub"
            if not string match -q -- '-*' $w
                set sub $w
                set -a __sre_where $sub
            end
        else if string match -q -- '-?*' $w
            __sre_takes_value $w; and set i (math $i + 1)
        else
            test $nargs = 0; and set id $w
            set nargs (math $nargs + 1)
        end
        set i (math $i + 1)
    end

    if test -z "$cmd"
        switch $prev
            case -C
                __fish_complete_directories $cur
            case --db
                __fish_complete_path $cur
            case -c
                string match -q -- '*=*' $cur
                or __sre_ask config --known-keys | string replace -r '^(\S+)\s+(\S+)\s+(.*)' '$1=\t$2: $3'
            case '*'
                if string match -q -- '-*' $cur
                    printf '%s\n' -C -c --db= --version --help
                else
                    __sre_ask --list-cmds
                end
        end
        return
    end

    # The value of an option, given as "--opt value" or "--opt=value".
    set -l opt $prev
    set -l pre
    if string match -qr -- '^--[^=]+=' $cur
        set opt (string replace -r '=.*' '' -- $cur)
        set pre $opt=
    end
    switch $cmd:$opt
        case '*:--state' '*:--from'
            __sre_states (string replace -- "$pre" '' $cur) | string replace -r '^' -- "$pre"
            return
        case '*:--severity'
            printf "$pre%s\n" critical high medium low
            return
        case config:--type config:-t
            printf "$pre%s\n" bool int duration path
            return
        case config:--file config:-f
            __fish_complete_path (string replace -- "$pre" '' $cur) | string replace -r '^' -- "$pre"
            return
    end
    # Any other value (a title, a reason) is the user's to type.
    test -n "$pre"; and return
    string match -q -- '-?*' $prev; and __sre_takes_value $prev; and return

    if test "$cmd" = incident -a -z "$sub"
        __sre_ask incident --completion-helper | string split -n ' '
    else if string match -q -- '-*' $cur
        __sre_ask $__sre_where --completion-helper | string split -n ' '
    else if test "$cmd" = help -a $nargs = 0
        __sre_ask --list-cmds
    else if test "$cmd" = config -a $nargs = 0
        printf '%s\t%s\n' get 'print a value' set 'write a value' unset 'remove a key' list 'every value'
        __sre_ask config --known-keys | string replace -r '^(\S+)\s+(\S+)\s+(.*)' '$1\t$2: $3'
    else if test "$cmd" = config -a $nargs = 1; and contains -- "$id" get set unset
        __sre_ask config --known-keys | string replace -r '^(\S+)\s+(\S+)\s+(.*)' '$1\t$2: $3'
    else if test "$cmd" = incident
        switch $sub:$nargs
            case show:0 transition:0 comment:0 ack:0 resolve:0 close:0
                __sre_ask incident list --porcelain
            case transition:1
                __sre_states $cur $id
        end
    else
        __fish_complete_path $cur
    end
end

complete -c sre -f -a '(__sre_complete)'
