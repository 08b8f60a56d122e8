// `pv tokenize MODEL TEXT`: the token ids of TEXT under the model's own tokenizer (GGUF or APR),
// as llama.cpp's `llama-tokenize --ids` prints them: BOS (and EOS) when the model adds them,
// control tokens written in the text matched as such. Byte-level BPE (gpt2) and SentencePiece
// (llama) vocabularies.

#include <ostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command_util.h"
#include "engine/model/model_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "harness/cli/command.h"

namespace po = boost::program_options;

namespace parity::cli {

namespace {

po::options_description tokenize_options() {
    po::options_description opts(
        "pv tokenize MODEL TEXT [options]\n\n"
        "Prints the token ids of TEXT, space-separated on one line (use `--` before a TEXT that\n"
        "starts with '-')");
    // clang-format off
    opts.add_options()
        ("help,h", "show this help")
        ("json", "print {\"ids\": [...], \"pieces\": [...]} (pieces: each token's bytes, invalid UTF-8 as U+FFFD)")
        ("no-bos", "do not add BOS (nor EOS) even where the model adds them");
    // clang-format on
    return opts;
}

int run_tokenize(const std::vector<std::string>& args, Io io) {
    const po::options_description opts = tokenize_options();
    const auto parsed = parse_or_help(args, opts, {{"model"}, {"text"}}, io.out);
    if (!parsed) return kExitOk;
    const po::variables_map& vm = *parsed;
    if (!vm.count("model")) throw po::error("missing MODEL");
    if (!vm.count("text")) throw po::error("missing TEXT");

    const Tokenizer tok(ModelFile::open(vm["model"].as<std::string>()).tokenizer());
    const std::vector<std::int32_t> ids = tok.encode(vm["text"].as<std::string>(), vm.count("no-bos") == 0);

    if (vm.count("json")) {
        nlohmann::json j;
        j["ids"] = ids;
        j["pieces"] = nlohmann::json::array();
        for (const auto id : ids) j["pieces"].push_back(tok.piece(id));
        io.out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        for (std::size_t i = 0; i < ids.size(); ++i) io.out << (i ? " " : "") << ids[i];
        io.out << "\n";
    }
    return kExitOk;
}

}  // namespace

Command tokenize_command() {
    return {"tokenize", "print the token ids of a text under a model's tokenizer", run_tokenize,
            [] { return describe_options(tokenize_options()); }};
}

}  // namespace parity::cli
