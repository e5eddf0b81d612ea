# Every third-party dependency taupe uses, found once here. All come from Debian packages
# (scripts/setup.sh installs them). Another LibTorch (e.g. 2.x from a Python wheel) is picked
# with -DCMAKE_PREFIX_PATH=<torch cmake prefix>; see docs/building.md.
find_package(Torch REQUIRED)
message(STATUS "taupe: LibTorch ${Torch_VERSION}")
find_package(HDF5 REQUIRED COMPONENTS CXX)
find_package(TIFF REQUIRED)
find_package(pugixml REQUIRED)   # OME-XML and TrackMate XML
find_package(nlohmann_json 3.10 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
find_package(CLI11 CONFIG REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)  # header-only: Boost.Math distributions and special functions
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 of run artifacts (core/artifacts.h)
if(TAUPE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TAUPE_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Interface targets wrapping variable-style packages.
add_library(taupe_hdf5 INTERFACE)
target_include_directories(taupe_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_compile_definitions(taupe_hdf5 INTERFACE ${HDF5_DEFINITIONS})
target_link_libraries(taupe_hdf5 INTERFACE ${HDF5_LIBRARIES})
add_library(taupe_opencv INTERFACE)
target_include_directories(taupe_opencv SYSTEM INTERFACE ${OpenCV_INCLUDE_DIRS})
target_link_libraries(taupe_opencv INTERFACE ${OpenCV_LIBS})
