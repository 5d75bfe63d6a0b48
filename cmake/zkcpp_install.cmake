# `cmake --install` rules: headers, the four libraries, the server and CLI binaries, a CMake
# package (find_package(zkcpp) → zkcpp::client, zkcpp::recipes, zkcpp::testing,
# zkcpp::proto: the wire codec, which the static zkcpp::testing links) and pkg-config
# files (zkcpp, zkcpp-testing). Included from the root CMakeLists.txt after every target exists.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ZKCPP_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/zkcpp")

set_target_properties(zkcpp_client PROPERTIES EXPORT_NAME client)
set_target_properties(zkcpp_recipes PROPERTIES EXPORT_NAME recipes)
set_target_properties(zkcpp_testing PROPERTIES EXPORT_NAME testing)
set_target_properties(zkcpp_proto PROPERTIES EXPORT_NAME proto)

install(TARGETS zkcpp_client zkcpp_recipes zkcpp_testing zkcpp_proto
  EXPORT zkcppTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS zkcpp-server RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
if(TARGET zkcpp-cli)
  install(TARGETS zkcpp-cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
# zk/internal/ (what zkcpp's own libraries share) is not installed: no public header includes it.
foreach(include_dir client/include recipes/include server-embedded/include proto/include)
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/${include_dir}/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" FILES_MATCHING PATTERN "*.h"
    PATTERN "internal" EXCLUDE)
endforeach()

install(EXPORT zkcppTargets NAMESPACE zkcpp:: DESTINATION "${ZKCPP_CMAKE_DIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/zkcppConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/zkcppConfig.cmake" INSTALL_DESTINATION "${ZKCPP_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/zkcppConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/zkcppConfig.cmake"
  "${PROJECT_BINARY_DIR}/zkcppConfigVersion.cmake"
  # The static libraries link Debian's libzookeeper_st, which ships no CMake config.
  "${PROJECT_SOURCE_DIR}/cmake/FindZooKeeper.cmake"
  DESTINATION "${ZKCPP_CMAKE_DIR}")

# From the installed .pc file's directory back to the prefix (e.g. "../.."): relocatable.
file(RELATIVE_PATH ZKCPP_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
foreach(pc zkcpp zkcpp-testing)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in" "${PROJECT_BINARY_DIR}/${pc}.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/${pc}.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endforeach()
