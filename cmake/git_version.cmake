# Writes OUTPUT (#define KPRUNE_GIT_VERSION "...") from `git describe` at build time, and only
# when it changed, so that results and teachers name the commit they were built from rather
# than the one CMake was configured at.
execute_process(COMMAND git describe --always --dirty
                WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT version)
  set(version "unknown")
endif()
set(content "#define KPRUNE_GIT_VERSION \"${version}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
