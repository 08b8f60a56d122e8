# Writes a seed corpus for the fuzzers: a very small synthetic model as GGUF and as APR.
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT}/gguf ${OUT}/apr ${OUT}/tmp)
execute_process(
  COMMAND ${PV} synth --arch llama --layers 1 --embd 32 --ff 64 --heads 2 --kv-heads 1 --vocab 260
          --types q8_0,q4_0 --apr f32 -o ${OUT}/tmp
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pv synth failed (${rc})")
endif()
file(GLOB ggufs ${OUT}/tmp/*.gguf)
file(COPY ${ggufs} DESTINATION ${OUT}/gguf)
file(GLOB aprs ${OUT}/tmp/*.apr)
file(COPY ${aprs} DESTINATION ${OUT}/apr)
