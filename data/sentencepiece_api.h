// The part of libsentencepiece cloze uses, as a table of functions.
//
// Why a table: Debian's libsentencepiece carries a private protobuf-lite 3.14 and exports
// its symbols, which clash with libprotobuf 3.21 in any program that uses both (each
// library's calls land in the other's copy: a crash or a version abort at start-up). So
// libsentencepiece is linked only into a small shared library, sentencepiece_shim.cc,
// which sentencepiece_library.h loads with RTLD_LOCAL | RTLD_DEEPBIND: its symbols stay
// out of the program's global scope and its own lookups prefer its own copies. Everything
// else reaches SentencePiece through this table.
//
// The types crossing it are standard C++ ones; both sides share the process's one
// libstdc++, so strings and vectors may be created on one side and used on the other.
#ifndef CLOZE_DATA_SENTENCEPIECE_API_H_
#define CLOZE_DATA_SENTENCEPIECE_API_H_

#include <string>
#include <string_view>
#include <vector>

namespace cloze::data {

struct SentencePieceApi {
  // A processor for a serialized ModelProto, or nullptr with *error set. Free with release.
  void* (*load)(std::string_view model, std::string* error);
  void (*release)(void* processor);
  // SentencePieceProcessor's methods of the same names; const processors are thread-safe.
  bool (*encode)(const void* processor, std::string_view text, std::vector<int>* ids, std::string* error);
  // Encode with each piece's surface: the bytes [begins[i], ends[i]) of `text` it came from,
  // as SentencePieceText's begin and end.
  bool (*encode_with_offsets)(const void* processor, std::string_view text, std::vector<int>* ids,
                              std::vector<size_t>* begins, std::vector<size_t>* ends,
                              std::string* error);
  bool (*decode)(const void* processor, const std::vector<int>& ids, std::string* text, std::string* error);
  int (*piece_size)(const void* processor);
  std::string (*id_to_piece)(const void* processor, int id);
  int (*piece_to_id)(const void* processor, std::string_view piece);
  int (*pad_id)(const void* processor);
  int (*unk_id)(const void* processor);
  bool (*is_control)(const void* processor, int id);
  // SentencePieceTrainer::Train(options, sentences); false with *error on failure.
  bool (*train)(const std::vector<std::pair<std::string, std::string>>& options,
                const std::vector<std::string>& sentences, std::string* error);
};

}  // namespace cloze::data

// The shim's one exported symbol.
extern "C" const cloze::data::SentencePieceApi* cloze_sentencepiece_api();

#endif  // CLOZE_DATA_SENTENCEPIECE_API_H_
