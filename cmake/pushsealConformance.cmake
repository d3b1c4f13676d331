# pushseal_add_conformance_tests(<prefix>
#   COMMAND <impl> [<args>...]        # the protocol v1 command line
#   [WITH <families or IDs>...]       # extended clauses to opt into
#   [XFAIL <file>]                    # expected failures, as --xfail
#   [TRANSPORTS <transports>...]      # as --transports (path file git http ssh)
#   [CLAUSES <IDs or prefixes>...]    # only these clauses, as --clause
#   [PER_SUITE]                       # one test per suite instead of per clause
#   [WORKING_DIRECTORY <dir>] [LABELS <labels>...] [ENVIRONMENT <vars>...])
#
# One ctest test per clause of the kit's docs/SPEC.md, named <prefix>.<ID>,
# labelled `pushseal`, `core` or `ext`, and its family, discovered when ctest
# starts (from `pushseal-conformance --list-clauses`), so a newer kit adds
# tests without the project changing -- as gtest_discover_tests does.
#
# One kit process runs every clause (<prefix>.run, which the clause tests
# depend on): per-clause tests then only read its results, so a full run
# costs about one plain kit run.  A clause run alone (`ctest -R P-PUSH-5`)
# finds no results from this ctest process and runs the kit for that clause
# only.  An expected failure is a test marked WILL_FAIL: ctest reports it
# passed while the clause fails, and failed once the clause passes (a strict
# XPASS).  A clause the kit skipped (an ext clause not opted into, an
# undeclared transport) is reported as skipped.
include_guard(GLOBAL)

set(_PUSHSEAL_CONFORMANCE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(pushseal_add_conformance_tests prefix)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "PER_SUITE" "XFAIL;WORKING_DIRECTORY"
    "COMMAND;WITH;TRANSPORTS;CLAUSES;LABELS;ENVIRONMENT")
  if(NOT ARG_COMMAND)
    message(FATAL_ERROR "pushseal_add_conformance_tests(${prefix}): COMMAND is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pushseal_add_conformance_tests(${prefix}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET pushseal::conformance)
    message(FATAL_ERROR "pushseal_add_conformance_tests: find_package(pushseal COMPONENTS conformance) first")
  endif()
  get_target_property(kit pushseal::conformance IMPORTED_LOCATION)
  if(NOT kit)
    get_target_property(kit pushseal::conformance LOCATION)
  endif()
  find_program(PUSHSEAL_CLAUSE_RUNNER pushseal-conformance-clause
    HINTS "${_PUSHSEAL_CONFORMANCE_DIR}" "${_PUSHSEAL_CONFORMANCE_DIR}/../../../libexec/pushseal" NO_DEFAULT_PATH)
  if(NOT PUSHSEAL_CLAUSE_RUNNER)
    message(FATAL_ERROR "pushseal_add_conformance_tests: pushseal-conformance-clause not found next to ${_PUSHSEAL_CONFORMANCE_DIR}")
  endif()

  # the kit's arguments, as one protocol: --impl is one shell command line
  string(REPLACE ";" " " impl "${ARG_COMMAND}")
  set(kit_args --impl "${impl}")
  if(ARG_WITH)
    string(REPLACE ";" "," with "${ARG_WITH}")
    list(APPEND kit_args --with "${with}")
  endif()
  if(ARG_TRANSPORTS)
    string(REPLACE ";" "," transports "${ARG_TRANSPORTS}")
    list(APPEND kit_args --transports "${transports}")
  endif()
  if(ARG_CLAUSES)
    string(REPLACE ";" "," clauses "${ARG_CLAUSES}")
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/pushseal-conformance/${prefix}")
  file(MAKE_DIRECTORY "${dir}")
  if(ARG_XFAIL)
    get_filename_component(xfail "${ARG_XFAIL}" ABSOLUTE)
  endif()
  if(NOT ARG_WORKING_DIRECTORY)
    set(ARG_WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()

  # What the discovery script needs at ctest time.
  set(include_file "${dir}/discover.cmake")
  set(state "")
  foreach(v kit prefix clauses xfail dir)
    string(APPEND state "set(_ps_${v} [==[${${v}}]==])\n")
  endforeach()
  string(APPEND state "set(_ps_runner [==[${PUSHSEAL_CLAUSE_RUNNER}]==])\n")
  string(APPEND state "set(_ps_kit_args [==[${kit_args}]==])\n")
  string(APPEND state "set(_ps_with [==[${with}]==])\n")
  string(APPEND state "set(_ps_labels [==[${ARG_LABELS}]==])\n")
  string(APPEND state "set(_ps_env [==[${ARG_ENVIRONMENT}]==])\n")
  string(APPEND state "set(_ps_wd [==[${ARG_WORKING_DIRECTORY}]==])\n")
  string(APPEND state "set(_ps_per_suite ${ARG_PER_SUITE})\n")
  file(WRITE "${include_file}" "${state}include([==[${_PUSHSEAL_CONFORMANCE_DIR}/pushsealConformanceDiscover.cmake]==])\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
