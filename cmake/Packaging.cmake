# Packaging: pushseal as a library other projects depend on.
#
# Included at the end of the top-level CMakeLists.txt, after every other
# install() rule, so that CPack (included last here) sees all of them.
#
# What it adds to `cmake --install`:
#   lib/libpushseal.so.0.1.0, libpushseal.so.0 (SONAME), libpushseal.so
#   lib/pkgconfig/pushseal.pc              (pkg-config pushseal)
#   lib/cmake/pushseal/pushseal{Config,ConfigVersion,Targets,StaticTargets}.cmake
#                                          (find_package(pushseal): pushseal::pushseal,
#                                           pushseal::pushseal_static)
#   lib/systemd/system/pushseal@.{service,timer}, lib/sysusers.d/pushseal.conf
# and `cpack` builds pushseal_<version>_<arch>.deb.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/pushseal)
set(PS_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# --- The shared library -----------------------------------------------------
# `pushseal` is the static library the CLI, the kit and the tests link.  The
# shared one is a second target over the very same sources and flags, so the
# two can never drift apart.  (If the project is ever configured with
# BUILD_SHARED_LIBS=ON, `pushseal` itself is the shared one and no second
# target is made.)
get_target_property(ps_lib_type pushseal TYPE)
if(ps_lib_type STREQUAL "STATIC_LIBRARY")
  add_library(pushseal_shared SHARED $<TARGET_PROPERTY:pushseal,SOURCES>)
  target_include_directories(pushseal_shared
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src/lib ${PROJECT_SOURCE_DIR}/src/util)
  target_compile_options(pushseal_shared PRIVATE ${PUSHSEAL_WARNINGS})
  target_compile_definitions(pushseal_shared PRIVATE _POSIX_C_SOURCE=200809L PUSHSEAL_BUILDING)
  # libgit2 is an implementation detail: no libgit2 type is in the header, so
  # consumers of the shared library never see it (pkg-config: Requires.private).
  target_link_libraries(pushseal_shared PRIVATE PkgConfig::LIBGIT2)
  # Every undefined symbol must come from a DT_NEEDED library.
  target_link_options(pushseal_shared PRIVATE -Wl,--no-undefined)
  set_target_properties(pushseal_shared PROPERTIES
    OUTPUT_NAME pushseal
    EXPORT_NAME pushseal
    VERSION ${PROJECT_VERSION}
    SOVERSION 0
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  add_library(pushseal::pushseal ALIAS pushseal_shared)

  # The static library, exported too (pushseal::pushseal_static).  Its
  # include directory is set in the top-level file as a source-tree path,
  # which install(EXPORT) refuses; give it the build/install split here.
  set_property(TARGET pushseal PROPERTY INTERFACE_INCLUDE_DIRECTORIES
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(pushseal PROPERTIES EXPORT_NAME pushseal_static)
  add_library(pushseal::pushseal_static ALIAS pushseal)

  set(ps_shared_target pushseal_shared)
  set(ps_static_target pushseal)
else()
  set_property(TARGET pushseal PROPERTY INTERFACE_INCLUDE_DIRECTORIES
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(pushseal PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 0)
  set(ps_shared_target pushseal)
  set(ps_static_target "")
endif()

install(TARGETS ${ps_shared_target} EXPORT pushsealTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT pushsealTargets NAMESPACE pushseal:: DESTINATION ${PS_CMAKE_DIR})
if(ps_static_target)
  # The top-level file installs libpushseal.a already; this second rule only
  # puts it in an export set (the file is copied once more, identically).
  install(TARGETS ${ps_static_target} EXPORT pushsealStaticTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT pushsealStaticTargets NAMESPACE pushseal:: DESTINATION ${PS_CMAKE_DIR})
endif()

# --- find_package(pushseal) -------------------------------------------------
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/pushsealConfig.cmake.in
  ${CMAKE_BINARY_DIR}/pushsealConfig.cmake
  INSTALL_DESTINATION ${PS_CMAKE_DIR})
# 0.x: a minor release may change the API, so only the same MAJOR.MINOR
# satisfies a request (find_package(pushseal 0.1) accepts 0.1.*, not 0.2).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pushsealConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pushsealConfig.cmake
  ${CMAKE_BINARY_DIR}/pushsealConfigVersion.cmake DESTINATION ${PS_CMAKE_DIR})
# COMPONENTS conformance: pushseal::conformance and pushseal_add_conformance_tests()
install(FILES ${CMAKE_CURRENT_LIST_DIR}/pushsealConformance.cmake
  ${CMAKE_CURRENT_LIST_DIR}/pushsealConformanceDiscover.cmake DESTINATION ${PS_CMAKE_DIR})
install(PROGRAMS ${CMAKE_CURRENT_LIST_DIR}/pushseal-conformance-clause DESTINATION ${PS_CMAKE_DIR})

# --- pkg-config -------------------------------------------------------------
# Written at install time so that its prefix is the one actually installed
# to (`cmake --install --prefix P`, or /usr inside the .deb).
# Paths relative to the prefix (GNUInstallDirs gives them relative unless
# the user passed absolute ones, which are then used as they are).
foreach(d LIBDIR INCLUDEDIR BINDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
    set(PS_PC_${d} "${CMAKE_INSTALL_${d}}")
  else()
    set(PS_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
  endif()
endforeach()
set(PS_PC_PREFIX "@PS_PC_PREFIX@") # filled in at install time
configure_file(${CMAKE_CURRENT_LIST_DIR}/pushseal.pc.in ${CMAKE_BINARY_DIR}/pushseal.pc.in @ONLY)
install(CODE "
  set(PS_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_BINARY_DIR}/pushseal.pc.in\" \"${CMAKE_BINARY_DIR}/pkgconfig/pushseal.pc\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${PS_PKGCONFIG_DIR}\" TYPE FILE
    FILES \"${CMAKE_BINARY_DIR}/pkgconfig/pushseal.pc\")
")

# --- systemd units ----------------------------------------------------------
# The units in contrib/ name /usr/bin/pushseal; installed, they name the
# binary of the prefix they are installed to.  systemd reads
# /usr/lib/systemd/system and /usr/local/lib/systemd/system.
if(IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  set(PS_UNIT_BINDIR "${CMAKE_INSTALL_BINDIR}")
else()
  set(PS_UNIT_BINDIR "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}")
endif()
foreach(unit pushseal@.service pushseal@.timer)
  install(CODE "
    file(READ \"${PROJECT_SOURCE_DIR}/contrib/systemd/${unit}\" ps_unit)
    string(REPLACE \"/usr/bin/pushseal \" \"${PS_UNIT_BINDIR}/pushseal \" ps_unit \"\${ps_unit}\")
    file(WRITE \"${CMAKE_BINARY_DIR}/systemd/${unit}\" \"\${ps_unit}\")
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
      FILES \"${CMAKE_BINARY_DIR}/systemd/${unit}\")
  ")
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/contrib/systemd/pushseal.sysusers
  DESTINATION lib/sysusers.d RENAME pushseal.conf)
install(FILES ${PROJECT_SOURCE_DIR}/contrib/systemd/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/contrib/systemd)

# --- cpack: a Debian package ------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pushseal)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "pushseal")
set(CPACK_PACKAGE_CONTACT "pushseal maintainers <pushseal@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "keep an automated writer's git repository sealed to its remote")
set(CPACK_PACKAGE_DESCRIPTION
"pushseal makes sure that every run of an automated writer (a bot, a timer,
a consistency checker) that commits into a git repository starts from
local == remote and pushes before it returns, so the local and the remote
history can never drift apart.
.
This package has the pushseal command, the libpushseal library (shared and
static, with pkg-config and CMake package files), systemd units for a
15-minute timer, and the pushseal-conformance kit with its suites.")
set(CPACK_DEBIAN_PACKAGE_NAME pushseal)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
find_program(PS_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(PS_DPKG_SHLIBDEPS)
  # libc6, libgit2-1.5 and (the installed suites) libcmocka0, from the ELF files.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libgit2-1.5 (>= 1.5.1)")
  if(BUILD_TESTING)
    string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libcmocka0 (>= 1.1.5)")
  endif()
endif()
# The kit's oracle runs the git command line; the adapters need sh/python3;
# static linking and `pkg-config pushseal` need libgit2's development files.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "git, openssh-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libgit2-dev, pkg-config, python3")
# A `shlibs` control file for libpushseal.so.0, and the ldconfig trigger.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
