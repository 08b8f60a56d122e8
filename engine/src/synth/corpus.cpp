// The text the synthetic vocabulary's BPE merges are learned from. Plain English about the
// project's own subject, with numbers, punctuation and a little code, so that common words
// and sub-words of prompts like "What is 2+2?" become single tokens.

#include "corpus.h"

namespace parity::synth {

std::string_view training_corpus() noexcept {
    return R"corpus(What is 2+2? The answer is 4. What is the capital of France? The capital of France is Paris.
Hello world! This is a small model that was made by a program, not trained on data. It has
weights drawn from a seeded random generator, scaled so that the activations stay in a sane range
through every layer. The same seed always gives the same bytes, so tests can depend on it.

An inference engine reads a model file, turns the prompt into tokens, and runs the tokens through
the layers one after another. Each layer normalizes its input, computes attention over the tokens
that came before, adds the result to the residual stream, normalizes again, and runs a small
feed-forward network with a gated linear unit. At the end the hidden state is normalized one last
time and multiplied by the output matrix, which gives one logit for every token in the vocabulary.
The token with the largest logit is the greedy choice, and generation repeats the whole process
with that token appended to the input.

When two engines disagree, the first question is where. A parity test records statistics for every
layer: the count of values, the minimum and the maximum, the mean and the standard deviation, and
the number of values that are not finite. If the counts differ, the two sides did not look at the
same sample, and no ratio of their statistics means anything. If the counts agree, the ratio of the
standard deviations should stay close to one in every layer; the first layer where it leaves the
band is where the two paths part ways. Then the values themselves are compared: the largest absolute
difference, the relative error, the cosine similarity, and the divergence of the final distributions.

Quantization stores weights in fewer bits. A block of thirty-two or two hundred fifty-six values
shares one scale, and each value keeps a small integer. The error this adds is expected and can be
measured; an error that is larger than the format allows is a bug. The reference implementation
defines the exact bytes, so a correct quantizer reproduces them bit for bit, including the sign of
zero and the way ties are rounded.

def forward(model, tokens):
    hidden = model.embed(tokens)
    for layer in model.layers:
        hidden = hidden + layer.attention(layer.norm1(hidden))
        hidden = hidden + layer.mlp(layer.norm2(hidden))
    return model.output(model.norm(hidden))

for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }
if (status != 0) { return error("failed to read the file"); }

The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. One, two,
three, four, five, six, seven, eight, nine, ten. Monday, Tuesday, Wednesday, Thursday, Friday,
Saturday and Sunday. January, February, March, April, May, June, July, August, September,
October, November and December. 1 2 3 4 5 6 7 8 9 10 100 1000 2024 2025 2026 3.14159 0.5 1e-6.

A contract states a prediction that could be false. The harness runs the prediction against the
engine and reports whether it held. A test that cannot fail proves nothing; a skipped test is not a
passing test; a test without a binding is reported as unbound. Every failure names the first
layer and slot where the paths diverged and prints one line that reruns the case.

Questions people ask a model: How are you today? Can you help me write a function? Why is the sky
blue? Please summarize this paragraph. Translate this sentence into German. What time is it in
Tokyo? Tell me a story about a robot who learns to paint. Explain how a transformer works.
)corpus";
}

}  // namespace parity::synth
