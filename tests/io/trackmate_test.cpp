// TrackMate in: the XML (spots, edges, tracks -> taupe tracks with divisions as parent links;
// a real TrackMate 3.4.2 file and hand-made files in its layout) and the spots table through the
// column-mapped CSV importer (TrackMate 7's layout: four header rows, TRACK_ID from 0,
// calibrated positions). Malformed inputs get one-line errors.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <filesystem>
#include <map>
#include <sstream>

#include "io_test_util.h"
#include "taupe/core/atomic_file.h"
#include "taupe/dataset/tracks.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/trackmate.h"

namespace taupe::io {
namespace {

namespace fs = std::filesystem;
using testing::expect_error;
using testing::TempDir;

const fs::path kRealXml = fs::path(TAUPE_SOURCE_DIR) / "tests/data/trackmate/biotracks_FakeTracks.xml";

/// A TrackMate XML in the layout TrackMate writes: spots (ID, name, FRAME, POSITION_X/Y in
/// microns), one track that divides at frame 2 (spot 3 -> spots 4 and 6), one track without a
/// division, a filtered-out track, a spot in no track, ImageData with pixelwidth 0.5.
std::string division_xml(const std::string& edges_extra = "", const std::string& image_data =
                             R"(<ImageData filename="movie.tif" folder="" width="60" height="40" nslices="1" nframes="6" pixelwidth="0.5" pixelheight="0.5" voxeldepth="1.0" timeinterval="240.0" />)") {
  auto spot = [](int id, int frame, double x_um, double y_um) {
    std::ostringstream s;
    s << "<Spot ID=\"" << id << "\" name=\"ID" << id << "\" QUALITY=\"1.0\" POSITION_T=\"" << frame * 240.0
      << "\" MAX_INTENSITY=\"100.0\" FRAME=\"" << frame << "\" POSITION_X=\"" << x_um << "\" POSITION_Y=\"" << y_um
      << "\" POSITION_Z=\"0.0\" RADIUS=\"2.5\" VISIBILITY=\"1\" />";
    return s.str();
  };
  std::ostringstream x;
  x << R"(<?xml version="1.0" encoding="UTF-8"?>
<TrackMate version="7.11.1">
  <Log>log text</Log>
  <Model spatialunits="micron" timeunits="sec">
    <FeatureDeclarations><SpotFeatures /><EdgeFeatures /><TrackFeatures /></FeatureDeclarations>
    <AllSpots nspots="12">)";
  std::map<int, std::vector<std::string>> by_frame;
  // Track 0: spots 1,2,3 (frames 0-2) divide into 4,5 (frames 3-4) and 6,7 (frames 3-4).
  by_frame[0].push_back(spot(1, 0, 7.5, 10.0));
  by_frame[1].push_back(spot(2, 1, 8.0, 10.0));
  by_frame[2].push_back(spot(3, 2, 8.5, 10.0));
  by_frame[3].push_back(spot(4, 3, 5.0, 5.0));
  by_frame[4].push_back(spot(5, 4, 5.0, 5.5));
  by_frame[3].push_back(spot(6, 3, 22.5, 15.0));
  by_frame[4].push_back(spot(7, 4, 22.5, 15.5));
  // Track 1: spots 8,9,10 (frames 0-2), no division.
  by_frame[0].push_back(spot(8, 0, 25.0, 4.0));
  by_frame[1].push_back(spot(9, 1, 25.0, 4.0));
  by_frame[2].push_back(spot(10, 2, 25.0, 4.0));
  // Track 2 (filtered out): spots 11, 12. Spot 13: in no track.
  by_frame[0].push_back(spot(11, 0, 1.0, 1.0));
  by_frame[1].push_back(spot(12, 1, 1.0, 1.0));
  by_frame[5].push_back(spot(13, 5, 2.0, 2.0));
  for (const auto& [f, spots] : by_frame) {
    x << "\n      <SpotsInFrame frame=\"" << f << "\">";
    for (const auto& s : spots) x << "\n        " << s;
    x << "\n      </SpotsInFrame>";
  }
  auto edge = [](int a, int b) {
    return "<Edge SPOT_SOURCE_ID=\"" + std::to_string(a) + "\" SPOT_TARGET_ID=\"" + std::to_string(b) +
           "\" LINK_COST=\"1.0\" />";
  };
  // Edges in TrackMate's file order (not time order; one edge written target-first).
  x << R"(
    </AllSpots>
    <AllTracks>
      <Track name="Track_0" TRACK_ID="0" TRACK_INDEX="0" NUMBER_SPOTS="7">
        )" << edge(1, 2) << edge(3, 2) << edge(3, 4) << edge(4, 5) << edge(3, 6) << edge(6, 7) << edges_extra << R"(
      </Track>
      <Track name="Track_1" TRACK_ID="1" TRACK_INDEX="1" NUMBER_SPOTS="3">
        )" << edge(8, 9) << edge(9, 10) << R"(
      </Track>
      <Track name="Track_2" TRACK_ID="2" TRACK_INDEX="2" NUMBER_SPOTS="2">
        )" << edge(11, 12) << R"(
      </Track>
    </AllTracks>
    <FilteredTracks>
      <TrackID TRACK_ID="0" />
      <TrackID TRACK_ID="1" />
    </FilteredTracks>
  </Model>
  <Settings>
    )" << image_data << R"(
  </Settings>
</TrackMate>
)";
  return x.str();
}

TEST(TrackMateXml, DivisionBecomesParentLinks) {
  const TrackMateData d = parse_trackmate_xml(division_xml(), "fixture.xml");
  EXPECT_EQ(d.version, "7.11.1");
  EXPECT_EQ(d.trackmate_tracks, 2u);
  EXPECT_EQ(d.divisions, 1u);
  EXPECT_EQ(d.spots_outside_tracks, 3u);   // the filtered-out track's two spots and the lone spot
  EXPECT_DOUBLE_EQ(d.pixel_width, 0.5);
  EXPECT_DOUBLE_EQ(d.frame_interval, 240.0);
  const TrackSet& ts = d.tracks;
  ASSERT_EQ(ts.tracks.size(), 4u);
  // Ids by (TRACK_ID, start frame, first spot): 1 = spots 1-3, 2 = spots 4-5, 3 = spots 6-7, 4 = spots 8-10.
  const Track &a = ts.tracks[0], &b = ts.tracks[1], &c = ts.tracks[2], &e = ts.tracks[3];
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.parent, 0);
  EXPECT_EQ(a.fate, Fate::kMitosis);
  EXPECT_EQ(a.start, 0);
  EXPECT_EQ(a.end, 2);
  EXPECT_EQ(b.id, 2);
  EXPECT_EQ(b.parent, 1);
  EXPECT_EQ(b.start, 3);
  EXPECT_EQ(c.id, 3);
  EXPECT_EQ(c.parent, 1);
  EXPECT_EQ(c.fate, Fate::kCensored);
  EXPECT_EQ(e.id, 4);
  EXPECT_EQ(e.parent, 0);
  EXPECT_EQ(e.fate, Fate::kCensored);
  ASSERT_EQ(ts.points.size(), 10u);
  // Microns -> pixels (0.5 µm per pixel): spot 1 (7.5, 10) µm -> (15, 20) px.
  EXPECT_DOUBLE_EQ(ts.points[0].x, 15.0);
  EXPECT_DOUBLE_EQ(ts.points[0].y, 20.0);
  EXPECT_EQ(ts.points[3].track_id, 2);
  EXPECT_DOUBLE_EQ(ts.points[3].x, 10.0);
}

TEST(TrackMateXml, ImportWithoutMovieWritesTheLineage) {
  TempDir dir("trackmate");
  write_text_atomic(dir / "cells.xml", division_xml());
  TrackMateImportOptions o;
  o.xml = dir / "cells.xml";
  const IoSummary s = import_trackmate(o, dir / "out");
  const TrackSet ts = read_tracks(dir / "out" / "cells" / "tracks.h5");
  ASSERT_EQ(ts.tracks.size(), 4u);
  EXPECT_EQ(ts.tracks[1].parent, 1);
  EXPECT_EQ(ts.tracks[2].parent, 1);
  EXPECT_EQ(s.counts.at("divisions"), 1u);
}

/// The real file (TrackMate 3.4.2 on Fiji's FakeTracks, 243 spots, 4 tracks): two spots have two
/// predecessors (merges), refused naming the spot; without the merging edges its three divisions
/// import as parent links.
TEST(TrackMateXml, RealFileMergesRefusedDivisionsImported) {
  const std::string text = read_text_file(kRealXml);
  try {
    parse_trackmate_xml(text, "FakeTracks.xml");
    ADD_FAILURE() << "merge accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("predecessors (a merge); taupe needs lineage trees"), std::string::npos)
        << e.what();
  }
  // Drop the second incoming edge of each merging spot.
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(text.c_str()));
  std::map<std::string, int> frame_of;
  for (const auto& s : doc.select_nodes("//Spot")) frame_of[s.node().attribute("ID").value()] = s.node().attribute("FRAME").as_int();
  std::map<std::string, int> incoming;
  std::vector<pugi::xml_node> drop;
  for (const auto& x : doc.select_nodes("//Edge")) {
    std::string a = x.node().attribute("SPOT_SOURCE_ID").value(), b = x.node().attribute("SPOT_TARGET_ID").value();
    if (frame_of[a] > frame_of[b]) std::swap(a, b);
    if (++incoming[b] > 1) drop.push_back(x.node());
  }
  EXPECT_EQ(drop.size(), 2u);
  for (auto& n : drop) n.parent().remove_child(n);
  std::ostringstream os;
  doc.save(os);
  const TrackMateData d = parse_trackmate_xml(os.str(), "FakeTracks.xml");
  EXPECT_EQ(d.version, "3.4.2");
  EXPECT_EQ(d.trackmate_tracks, 4u);
  EXPECT_EQ(d.divisions, 3u);
  std::map<std::int64_t, int> children;
  for (const Track& t : d.tracks.tracks)
    if (t.parent) ++children[t.parent];
  EXPECT_EQ(children.size(), 3u);
  for (const auto& [p, n] : children) {
    EXPECT_EQ(n, 2) << "parent " << p;
    EXPECT_EQ(d.tracks.tracks[std::size_t(d.tracks.find(p))].fate, Fate::kMitosis);
  }
  for (const TrackPoint& p : d.tracks.points) {   // 128 x 128 pixels, 1 px per unit
    EXPECT_GE(p.x, 0);
    EXPECT_LT(p.x, 128);
    EXPECT_LT(p.t, 50);
  }
}

TEST(TrackMateXml, MalformedFilesHaveOneLineErrors) {
  const std::string ok = division_xml();
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = ok;
    const auto p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return s.replace(p, from.size(), to);
  };
  auto err = [](const std::string& text) {
    try {
      parse_trackmate_xml(text, "t.xml");
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err(ok.substr(0, ok.size() / 2)).substr(0, 14), "t.xml: line 23");
  EXPECT_NE(err(ok.substr(0, ok.size() / 2)).find("not well-formed XML"), std::string::npos);
  EXPECT_EQ(err("<?xml version=\"1.0\"?><Other/>"), "t.xml: no <TrackMate> root element (not a TrackMate XML file)");
  EXPECT_EQ(err("<TrackMate version=\"7\"/>"), "t.xml: TrackMate/Model: element missing");
  EXPECT_EQ(err(replaced(" FRAME=\"1\" POSITION_X=\"8\"", " POSITION_X=\"8\"")), "t.xml: Spot 2 (line 13): attribute FRAME missing");
  EXPECT_EQ(err(replaced("POSITION_X=\"8\"", "POSITION_X=\"eight\"")),
            "t.xml: Spot 2 (line 13): attribute POSITION_X = 'eight' is not a finite number");
  EXPECT_EQ(err(replaced("<Spot ID=\"2\"", "<Spot ID=\"1\"")), "t.xml: Spot 1 (line 13): spot ID appears twice");
  EXPECT_EQ(err(division_xml("<Edge SPOT_SOURCE_ID=\"7\" SPOT_TARGET_ID=\"99\" />")),
            "t.xml: Track 'Track_0' (TRACK_ID 0): Edge (line 35): spot 99 is not in AllSpots");
  EXPECT_EQ(err(division_xml("<Edge SPOT_SOURCE_ID=\"5\" SPOT_TARGET_ID=\"7\" />")),
            "t.xml: Track 'Track_0' (TRACK_ID 0): Edge (line 35): spots 5 and 7 are both in frame 4 (an edge must join "
            "different frames)");
  EXPECT_EQ(err(division_xml("<Edge SPOT_SOURCE_ID=\"4\" SPOT_TARGET_ID=\"7\" />")),
            "t.xml: Track 'Track_0' (TRACK_ID 0): spot 7 at frame 4 has 2 predecessors (a merge); taupe needs lineage trees");
  EXPECT_EQ(err(replaced("TRACK_ID=\"1\" TRACK_INDEX", "TRACK_ID=\"0\" TRACK_INDEX")),
            "t.xml: Track 'Track_1' (line 37): TRACK_ID 0 appears twice");
  EXPECT_EQ(err(division_xml("", "<ImageData width=\"60\" />")),
            "t.xml: TrackMate/Settings/ImageData: no pixelwidth to turn micron into pixels; give --xml-pixel-size");
  // Found by fuzz_trackmate_xml: a huge image size was cast to int (undefined behaviour).
  EXPECT_EQ(err(division_xml("", "<ImageData width=\"6.8e70\" pixelwidth=\"1\" />")),
            "t.xml: TrackMate/Settings/ImageData: attribute width = '6.8e70' is not an image size (integer in [0, 1e7])");
  EXPECT_EQ(err(replaced("<TrackID TRACK_ID=\"0\" />\n      <TrackID TRACK_ID=\"1\" />", "<TrackID TRACK_ID=\"2\" />")
                    .replace(ok.find("<Edge SPOT_SOURCE_ID=\"11\""), 0, "")),
            "no error");   // the filtered-out track alone is a valid file
  EXPECT_EQ(err(replaced("<TrackID TRACK_ID=\"0\" />\n      <TrackID TRACK_ID=\"1\" />", "<TrackID TRACK_ID=\"5\" />")),
            "t.xml: TrackMate/Model/AllTracks: no track with an edge");
}

// ---- the column-mapped CSV importer on a TrackMate 7 spots table ---------------------------

/// TrackMate 7's spots table: header, three more header rows (names, short names, units), spots
/// with TRACK_ID counted from 0 and positions in microns; a spot in no track has an empty TRACK_ID.
std::string trackmate_spots_csv() {
  std::ostringstream s;
  s << "LABEL,ID,TRACK_ID,QUALITY,POSITION_X,POSITION_Y,POSITION_Z,POSITION_T,FRAME,RADIUS,VISIBILITY,MANUAL_SPOT_COLOR,"
       "MEAN_INTENSITY_CH1\n"
       "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,Radius,Visibility,Manual spot color,Mean intensity ch1\n"
       "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,R,Visibility,Spot color,Mean ch1\n"
       ",,,(quality),(microns),(microns),(microns),(sec),,(microns),,,(counts)\n";
  int spot = 100;
  for (int track = 0; track < 2; ++track)
    for (int f = 0; f < 4; ++f, ++spot)
      s << "ID" << spot << "," << spot << "," << track << ",40.0," << 5.0 * (10 + 10 * track + f) << "," << 5.0 * (8 + f)
        << ",0.0," << 5.0 * f << "," << f << ",12.5,1,,66.7\n";
  s << "ID999,999,,30.0,50.0,50.0,0.0,0.0,0,12.5,1,,10.0\n";
  return s.str();
}

TEST(MappedCsv, ImportsATrackMateSpotsTable) {
  std::vector<std::string> notes;
  const CsvColumns cols = parse_csv_columns({"id=TRACK_ID", "t=FRAME", "x=POSITION_X", "y=POSITION_Y"}, 5.0);
  const TrackSet ts = parse_tracks_csv(trackmate_spots_csv(), "spots.csv", cols, &notes);
  ASSERT_EQ(ts.tracks.size(), 2u);
  EXPECT_EQ(ts.tracks[0].id, 1);   // TRACK_ID 0 -> 1
  EXPECT_EQ(ts.tracks[1].id, 2);
  EXPECT_EQ(ts.tracks[0].end, 3);
  ASSERT_EQ(ts.points.size(), 8u);
  EXPECT_DOUBLE_EQ(ts.points[1].x, 11.0);   // 55 µm / 5 µm per pixel
  EXPECT_DOUBLE_EQ(ts.points[1].y, 9.0);
  EXPECT_DOUBLE_EQ(ts.points[4].x, 20.0);
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(notes[0], "track ids start at 0: every id was increased by 1 (taupe ids start at 1)");
  EXPECT_EQ(notes[1], "3 further header row(s) under the first skipped");
  EXPECT_EQ(notes[2], "1 row(s) without a track id (spots in no track) skipped");
}

TEST(MappedCsv, QuotedFieldsAndWhitespaceTables) {
  // RFC 4180: a quoted header name and a quoted field holding the delimiter.
  const TrackSet a = parse_tracks_csv("\"ID\",t,y,x,note\n1,0,2.5,3.5,\"a, b\"\n1,1,2.5,3.5,\"say \"\"hi\"\"\"\n", "q.csv");
  ASSERT_EQ(a.points.size(), 2u);
  EXPECT_DOUBLE_EQ(a.points[0].x, 3.5);
  const TrackSet b = parse_tracks_csv("ID t x y z parent\n1  0 3 4 0 1\n2\t1 5 6 0 2\n", "b.csv");
  ASSERT_EQ(b.tracks.size(), 2u);
  EXPECT_EQ(b.tracks[0].parent, 0);
}

TEST(MappedCsv, MalformedTablesHaveOneLineErrors) {
  auto err = [](const std::string& text, const std::vector<std::string>& map = {}) {
    try {
      parse_tracks_csv(text, "s.csv", parse_csv_columns(map));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("", {}), "s.csv: empty file (expected a header with ID, t, x, y)");
  EXPECT_EQ(err("ID,t,x\n1,0,3\n"), "s.csv: line 1: header lacks column 'y' (need ID, t, x, y; map other names with --columns y=NAME)");
  EXPECT_EQ(err(trackmate_spots_csv(), {"id=TRACK", "t=FRAME", "x=POSITION_X", "y=POSITION_Y"}).substr(0, 67),
            "s.csv: line 1: --columns id=TRACK: no such column (the header has L");
  EXPECT_EQ(err("ID,t,x,y\n1,0,3,\"4\n"), "s.csv: line 2: unterminated quoted CSV field");
  EXPECT_EQ(err("ID,t,x,y\n1,0,3,4\n1,0,3,5\n"),
            "s.csv: line 3: track 1 has a second row at frame 0 (a division inside one track id? a TrackMate spots table "
            "keeps both daughters under one TRACK_ID: import the TrackMate XML, which has the edges)");
  EXPECT_EQ(err("ID,t,x,y\n1,0,3,4\n1,1,3\n"), "s.csv: line 3: 3 fields, the header has 4");
  EXPECT_EQ(err("ID,t,x,y,parent\n0,0,3,4,0\n"), "s.csv: track id 0 with a parent column: 0 means 'no parent' there; number tracks from 1");
  EXPECT_EQ(err("ID,t,x,y\n1,0.5,3,4\n"), "s.csv: line 2: column 't': frame must be an integer >= 0");
  EXPECT_EQ(err("ID,t,x,y\n1,0,nan,4\n"), "s.csv: line 2: column 'x': 'nan' is not a finite number");
  EXPECT_EQ(err("ID,track_id,t,x,y\n1,1,0,3,4\n"),
            "s.csv: line 1: columns 'ID' and 'track_id' both give 'id'; pick one with --columns id=NAME");
  EXPECT_THROW(parse_csv_columns({"track=ID"}), ConfigError);
  EXPECT_THROW(parse_csv_columns({"id=ID"}, 0.0), ConfigError);
}

}  // namespace
}  // namespace taupe::io
