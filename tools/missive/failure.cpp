#include "failure.hpp"

#include "text.hpp"

#include <iostream>

namespace missive::cli {

int report_failure(bool json, std::string_view kind, std::string_view message, int status) {
    if (json) {
        std::cout << R"({"status":"failed","server":"","reply":null,"queue_id":"","recipients":[],)"
                  << R"("error":{"kind":)" << json_string(kind) << R"(,"message":)"
                  << json_string(message) << R"(,"exit":)" << status << "}}\n";
    }
    std::cerr << "missive: " << printable(message) << '\n';
    return status;
}

}  // namespace missive::cli
