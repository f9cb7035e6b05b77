# linechannel_module(<module> SOURCES <files...> [USES <modules...>] [LINKS <targets...>]
#                    [PRIVATE_LINKS <targets...>])
#
# One module = one folder = one static library `linechannel_<module>`. USES names the project
# modules it may depend on; their libraries are linked, and at build time every #include of a
# project header in the module's files is checked against them (transitively): an include of a
# module not used fails the build with the file and the line, so dependencies stay one-way.
# Module names map to folders: `storage` is storage/*.h (the interfaces), `storage_sqlite` is
# storage/sqlite/ (likewise storage_postgres and storage_cache), any other name
# server/<module>/; `proto` and `error_details` are the generated libraries of proto/. LINKS are third-party targets exposed by the module's headers, PRIVATE_LINKS
# those only its .cc files use.
function(linechannel_module module)
  cmake_parse_arguments(ARG "" "" "SOURCES;USES;LINKS;PRIVATE_LINKS" ${ARGN})
  set(target linechannel_${module})
  set(allowed ${module})
  set(used_targets)
  foreach(used IN LISTS ARG_USES)
    get_property(used_allowed GLOBAL PROPERTY LINECHANNEL_MODULE_ALLOWED_${used})
    if(used STREQUAL "proto")
      set(used_allowed error_details)
    elseif(used STREQUAL "error_details")
      set(used_allowed "")
    elseif(NOT used_allowed)
      message(FATAL_ERROR "module ${module} uses ${used}, which is not defined (yet)")
    endif()
    list(APPEND allowed ${used} ${used_allowed})
    list(APPEND used_targets linechannel_${used})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY LINECHANNEL_MODULE_ALLOWED_${module} ${allowed})
  set_property(GLOBAL APPEND PROPERTY LINECHANNEL_MODULES ${target})

  file(GLOB headers CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.h")
  set(checked ${ARG_SOURCES} ${headers})
  list(TRANSFORM checked PREPEND "${CMAKE_CURRENT_SOURCE_DIR}/" REGEX "^[^/]")
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${target}.includes_checked")
  # Lists travel as "|"-separated text: a ";" would split the command's arguments.
  string(REPLACE ";" "|" allowed_arg "${allowed}")
  string(REPLACE ";" "|" checked_arg "${checked}")
  add_custom_command(
    OUTPUT "${stamp}"
    COMMAND ${CMAKE_COMMAND} "-DMODULE=${module}" "-DALLOWED=${allowed_arg}" "-DFILES=${checked_arg}"
            "-DSTAMP=${stamp}" -P "${PROJECT_SOURCE_DIR}/cmake/CheckModuleIncludes.cmake"
    DEPENDS ${checked} "${PROJECT_SOURCE_DIR}/cmake/CheckModuleIncludes.cmake"
    COMMENT "Checking the includes of module ${module}"
    VERBATIM)

  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES} "${stamp}")
    target_link_libraries(${target} PUBLIC ${used_targets} ${ARG_LINKS}
                          PRIVATE ${ARG_PRIVATE_LINKS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    linechannel_warnings(${target})
  else()
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${used_targets} ${ARG_LINKS})
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    add_custom_target(${target}_includes ALL DEPENDS "${stamp}")
  endif()
endfunction()
