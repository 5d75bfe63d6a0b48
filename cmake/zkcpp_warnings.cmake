# Warnings per target, not per directory: zkcpp_apply_warnings(<dir>) gives every target that
# zkcpp defines in <dir> and below zkcpp's warning flags (and -Werror with ZKCPP_WERROR), and
# nothing else. A project that adds zkcpp with add_subdirectory keeps its own flags for its own
# targets.

set(ZKCPP_WARNING_FLAGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(zkcpp_apply_warnings dir)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$")
      target_compile_options(${target} PRIVATE ${ZKCPP_WARNING_FLAGS})
      if(ZKCPP_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
      endif()
    endif()
  endforeach()
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    zkcpp_apply_warnings("${subdir}")
  endforeach()
endfunction()
