// missive completion bash|zsh: shell completion made from the command line's own definition
// (CLI11's subcommands and options), so that it never lags behind a new flag. The build runs
// it to make the files `cmake --install` puts in bash-completion's and zsh's directories.
#include "commands.hpp"
#include "exit_codes.hpp"

#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace missive::cli {

namespace {

// What completion needs of the command line, by command path ("missive", "missive dkim" …).
struct Words {
    std::map<std::string, std::string> subcommands;  ///< path → its subcommands' names
    std::map<std::string, std::string> options;      ///< path → its long options
    std::map<std::string, std::string> values;       ///< "path --option" → choices, or FILE
};

void join(std::string& list, const std::string& word) {
    list += (list.empty() ? "" : " ") + word;
}

void collect(const CLI::App& app, const std::string& path, Words& w) {
    for (const CLI::App* sub : app.get_subcommands({})) {
        if (!sub->get_group().empty()) {  // a hidden one has an empty group
            join(w.subcommands[path], sub->get_name());
            collect(*sub, path + " " + sub->get_name(), w);
        }
    }
    for (const CLI::Option* o : app.get_options()) {
        for (const std::string& name : o->get_lnames()) {
            join(w.options[path], "--" + name);
            if (o->get_type_size_min() > 0) {
                // "TEXT:{a,b,c}" for a CLI::IsMember check: those words; any other value may
                // be a file name (bash's and zsh's default completion).
                const std::string type = o->get_type_name();
                const auto open = type.find('{');
                const auto close = type.find('}', open);
                std::string choices = "FILE";
                if (open != std::string::npos && close != std::string::npos) {
                    choices = type.substr(open + 1, close - open - 1);
                    for (char& c : choices) {
                        c = c == ',' ? ' ' : c;
                    }
                }
                std::string key = path;
                w.values[key.append(" --").append(name)] = choices;
            }
        }
        for (const std::string& name : o->get_snames()) {
            join(w.options[path], "-" + name);
        }
    }
}

// One shell associative array assignment per entry: [key]="words" (no quote in any of them).
std::string table(const std::map<std::string, std::string>& m) {
    std::string out;
    for (const auto& [key, words] : m) {
        out.append("    [\"").append(key).append("\"]=\"").append(words).append("\"\n");
    }
    return out;
}

std::string bash_script(const Words& w) {
    return "# bash completion for missive, made by `missive completion bash`\n"
           "declare -gA _missive_subcommands=(\n" +
           table(w.subcommands) + ")\ndeclare -gA _missive_options=(\n" + table(w.options) +
           ")\ndeclare -gA _missive_values=(\n" + table(w.values) +
           ")\n"
           "_missive() {\n"
           "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
           "    local path=missive i\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        if [[ \" ${_missive_subcommands[$path]-} \" == *\" ${COMP_WORDS[i]} \"* ]]; "
           "then\n"
           "            path=\"$path ${COMP_WORDS[i]}\"\n"
           "        fi\n"
           "    done\n"
           "    COMPREPLY=()\n"
           "    if [[ -n \"${_missive_values[$path $prev]-}\" ]]; then\n"
           "        if [[ \"${_missive_values[$path $prev]-}\" != FILE ]]; then\n"
           "            COMPREPLY=($(compgen -W \"${_missive_values[$path $prev]-}\" -- "
           "\"$cur\"))\n"
           "        fi\n"
           "        return 0\n"
           "    fi\n"
           "    COMPREPLY=($(compgen -W \"${_missive_subcommands[$path]-} "
           "${_missive_options[$path]-}\" -- \"$cur\"))\n"
           "}\n"
           "complete -o default -F _missive missive\n";
}

std::string zsh_script(const Words& w) {
    return "#compdef missive\n"
           "# zsh completion for missive, made by `missive completion zsh`\n"
           "local -A subcommands options values\n"
           "subcommands=(\n" +
           table(w.subcommands) + ")\noptions=(\n" + table(w.options) + ")\nvalues=(\n" +
           table(w.values) +
           ")\n"
           "local cmdpath=missive i\n"
           "for (( i = 2; i < CURRENT; i++ )); do\n"
           "    if [[ \" ${subcommands[$cmdpath]} \" == *\" ${words[i]} \"* ]]; then\n"
           "        cmdpath=\"$cmdpath ${words[i]}\"\n"
           "    fi\n"
           "done\n"
           "local key=\"$cmdpath ${words[CURRENT-1]}\"\n"
           "if (( ${+values[$key]} )); then\n"
           "    if [[ ${values[$key]} == FILE ]]; then _files; else compadd -- ${=values[$key]}; "
           "fi\n"
           "    return\n"
           "fi\n"
           "compadd -- ${=subcommands[$cmdpath]} ${=options[$cmdpath]}\n";
}

}  // namespace

void add_completion(CLI::App& app, int& status) {
    auto shell = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "completion",
        "Print the shell completion script for bash or zsh, e.g. `source <(missive completion "
        "bash)` (installed ones come with `cmake --install`)");
    cmd->add_option("shell", *shell, "bash or zsh")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh"}));
    cmd->callback([shell, &status, &app] {
        Words w;
        collect(app, "missive", w);
        std::cout << (*shell == "bash" ? bash_script(w) : zsh_script(w));
        status = exit_ok;
    });
}

}  // namespace missive::cli
