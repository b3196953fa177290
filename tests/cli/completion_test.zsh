#!/usr/bin/env zsh
# ctest completion_zsh: the script `missive completion zsh` prints (installed as _missive) runs
# in zsh and offers the subcommands, options and values it should. compadd and _files, which
# exist only inside zsh's completion system, are stood in for by functions that print.
# usage: completion_test.zsh ZSH_COMPLETION_FILE
file=$1
status_=0
compadd() { [[ $1 == -- ]] && shift; print -r -- "$*" }
_files() { print -r -- FILES }
_missive() { source $file }

# expect "WORDS…" "OFFERED": completing after WORDS (the cursor on a new word) offers OFFERED.
expect() {
    local -a words
    words=(${=1} '')
    local CURRENT=${#words}
    local got=$(_missive)
    if [[ $got != $2 ]]; then
        print -r -- "completing '$1': got '$got', expected '$2'"
        status_=1
    fi
}

head -1 $file | grep -qx '#compdef missive' || { print "no #compdef line"; status_=1 }
expect "missive" "send queue deliver capture dkim sendmail completion --help -h --version -V"
expect "missive send --tls" "opportunistic required always implicit none"
expect "missive send --attach" "FILES"
expect "missive dkim" "keygen dns --help -h"
exit $status_
