#include <iostream>

#include "harness/cli/command.h"

int main(int argc, char** argv) { return parity::cli::run_pv(argc, argv, {std::cout, std::cerr}); }
