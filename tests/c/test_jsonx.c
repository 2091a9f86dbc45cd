/* test_jsonx.c — jsonx.c against what CPython prints. Every expected string
 * below was produced by Python 3.11 (repr, format(x, ".5"), json.dumps with
 * ensure_ascii=False, json.dumps(indent=2, sort_keys=True), str()) and
 * pasted here, so the C output is compared with Python's, byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

/* {value, repr(value), format(value, ".5")} */
static const struct { double v; const char *repr; const char *g5; } float_cases[] = {
    {0x0.0p+0, "0.0", "0.0"},
    {-0x0.0p+0, "-0.0", "-0.0"},
    {0x1.0000000000000p+0, "1.0", "1.0"},
    {-0x1.0000000000000p+0, "-1.0", "-1.0"},
    {0x1.999999999999ap-4, "0.1", "0.1"},
    {0x1.999999999999ap-3, "0.2", "0.2"},
    {0x1.3333333333333p-2, "0.3", "0.3"},
    {0x1.5555555555555p-2, "0.3333333333333333", "0.33333"},
    {0x1.5555555555555p-1, "0.6666666666666666", "0.66667"},
    {0x1.3333333333334p-2, "0.30000000000000004", "0.3"},
    {0x1.8000000000000p+0, "1.5", "1.5"},
    {0x1.9000000000000p+6, "100.0", "100.0"},
    {0x1.c6bf526340000p+49, "1000000000000000.0", "1e+15"},
    {0x1.1c37937e08000p+53, "1e+16", "1e+16"},
    {0x1.6345785d8a000p+56, "1e+17", "1e+17"},
    {0x1.1c37937e07fffp+53, "9999999999999998.0", "1e+16"},
    {0x1.b69b4ba630f35p+56, "1.2345678901234568e+17", "1.2346e+17"},
    {0x1.18b54f22aeb00p+50, "1234567890123456.0", "1.2346e+15"},
    {0x1.a36e2eb1c432dp-14, "0.0001", "0.0001"},
    {0x1.4f8b588e368f1p-17, "1e-05", "1e-05"},
    {0x1.01f31f46ed246p-13, "0.000123", "0.000123"},
    {0x1.9e0fcaf9380fcp-17, "1.234e-05", "1.234e-05"},
    {0x1.a36e2eb1c432dp-14, "0.0001", "0.0001"},
    {0x1.a36371ea531a8p-14, "9.999e-05", "9.999e-05"},
    {0x1.249ad2594c37dp+332, "1e+100", "1e+100"},
    {0x1.bff2ee48e0530p-333, "1e-100", "1e-100"},
    {0x1.1ccf385ebc8a0p+1023, "1e+308", "1e+308"},
    {0x1.fffffffffffffp+1023, "1.7976931348623157e+308", "1.7977e+308"},
    {0x1.0000000000000p-1022, "2.2250738585072014e-308", "2.2251e-308"},
    {0x0.fffffffffffffp-1022, "2.225073858507201e-308", "2.2251e-308"},
    {0x0.0000000000001p-1022, "5e-324", "4.9407e-324"},
    {0x0.0000000000002p-1022, "1e-323", "9.8813e-324"},
    {0x0.0000000000064p-1022, "4.94e-322", "4.9407e-322"},
    {0x1.921f9f01b866ep+1, "3.14159", "3.1416"},
    {0x1.921fb54442d18p+1, "3.141592653589793", "3.1416"},
    {0x1.5bf0a8b145769p+1, "2.718281828459045", "2.7183"},
    {-0x1.921fb54442d18p+1, "-3.141592653589793", "-3.1416"},
    {0x1.81c8000000000p+13, "12345.0", "1.2345e+04"},
    {0x1.e240000000000p+16, "123456.0", "1.2346e+05"},
    {0x1.34a0000000000p+10, "1234.5", "1234.5"},
    {0x1.869f800000000p+16, "99999.5", "1e+05"},
    {0x1.0000000000000p-1, "0.5", "0.5"},
    {0x1.0000000000000p-2, "0.25", "0.25"},
    {0x1.4000000000000p+1, "2.5", "2.5"},
    {0x1.0f0cf064dd592p+73, "1e+22", "1e+22"},
    {0x1.b1ae4d6e2ef50p+69, "1e+21", "1e+21"},
    {0x1.52d02c7e14af6p+76, "1e+23", "1e+23"},
    {0x1.a36e2eb1c432dp-15, "5e-05", "5e-05"},
    {0x1.0624dd2f1a9fcp-10, "0.001", "0.001"},
    {0x1.0624dd2f1a9fcp-10, "0.001", "0.001"},
    {0x1.eb851eb851eb8p-7, "0.015", "0.015"},
    {0x1.0000000000001p+0, "1.0000000000000002", "1.0"},
    {0x1.fffffffffffffp-1, "0.9999999999999999", "1.0"},
    {0x1.0000000000000p+52, "4503599627370496.0", "4.5036e+15"},
    {0x1.0000000000000p+53, "9007199254740992.0", "9.0072e+15"},
    {0x1.0000000000001p+53, "9007199254740994.0", "9.0072e+15"},
    {0x1.0000000000000p+63, "9.223372036854776e+18", "9.2234e+18"},
    {0x1.0000000000000p+64, "1.8446744073709552e+19", "1.8447e+19"},
    {0x1.0000000000001p+53, "9007199254740994.0", "9.0072e+15"},
    {0x1.ad7f29abcaf48p-24, "1e-07", "1e-07"},
    {0x1.edd2f1a9fbe77p+6, "123.456", "123.46"},
    {0x1.86a0000000000p+16, "100000.0", "1e+05"},
    {0x1.86a0000000000p+16, "100000.0", "1e+05"},
    {0x1.f75104d551d6ap-16, "3.0000000000000004e-05", "3e-05"},
    {0x1.f9add3746f65ep-4, "0.12345678901234566", "0.12346"},
    {0x1.0000000000000p-1017, "7.120236347223045e-307", "7.1202e-307"},
    {0x1.0000000000000p-957, "8.209073602596753e-289", "8.2091e-289"},
    {0x1.0000000000000p-808, "5.858190679279809e-244", "5.8582e-244"},
    {0x1.0000000000000p-705, "5.940911144672375e-213", "5.9409e-213"},
    {0x1.0000000000000p-569, "5.17526350329881e-172", "5.1753e-172"},
    {0x1.0000000000000p-383, "5.075883674631299e-116", "5.0759e-116"},
    {0x1.0000000000000p-140, "7.174648137343064e-43", "7.1746e-43"},
    {0x1.0000000000000p-97, "6.310887241768095e-30", "6.3109e-30"},
    {0x1.0000000000000p-77, "6.617444900424222e-24", "6.6174e-24"},
    {0x1.0000000000000p-44, "5.684341886080802e-14", "5.6843e-14"},
    {0x1.0000000000000p-24, "5.960464477539063e-08", "5.9605e-08"},
    {0x1.0000000000000p+89, "6.189700196426902e+26", "6.1897e+26"},
    {0x1.0000000000000p+122, "5.316911983139664e+36", "5.3169e+36"},
    {0x1.0000000000000p+132, "5.444517870735016e+39", "5.4445e+39"},
    {0x1.0000000000000p+275, "6.070840288205404e+82", "6.0708e+82"},
    {0x1.0000000000000p+481, "6.243497100631985e+144", "6.2435e+144"},
    {0x1.4b9ad0f953a6ep-2, "0.32383276483316237", "0.32383"},
    {0x1.34f0696513270p-3, "0.15084917392450192", "0.15085"},
    {0x1.4d474883171ffp-1, "0.6509344730398537", "0.65093"},
    {0x1.28b2f3a47e100p-4, "0.07243628666754276", "0.072436"},
    {0x1.125f2046063a0p-1, "0.5358820043066892", "0.53588"},
    {0x1.767727ca98cc2p-2, "0.36568891691258554", "0.36569"},
    {0x1.db208fa389760p-5, "0.057998924774706806", "0.057999"},
    {0x1.03ce9dcdbd9d7p-1, "0.5074357331894203", "0.50744"},
    {0x1.332a1858028d0p-5, "0.03749565844198488", "0.037496"},
    {0x1.bc0d9d3586aa4p-2, "0.4336456836623859", "0.43365"},
    {0x1.1e20b87b382e0p-4, "0.06985542357461894", "0.069855"},
    {0x1.738f7d1a22dd8p-4, "0.09071301334386506", "0.090713"},
    {0x1.b2b5288790eecp-2, "0.42451918914251396", "0.42452"},
    {0x1.a75929643064bp-1, "0.8268521246720381", "0.82685"},
    {0x1.fb17c3e518208p-4, "0.12380196114964559", "0.1238"},
    {0x1.c93182a170b30p-3, "0.22323896460701453", "0.22324"},
    {0x1.413eed654fd23p-1, "0.6274332224055893", "0.62743"},
    {0x1.e53a1b43f58c3p-1, "0.9477089424570057", "0.94771"},
    {0x1.277a09a57982bp-1, "0.5771029486174987", "0.5771"},
    {0x1.9633680658f14p-2, "0.39668047465078016", "0.39668"},
    {0x1.f3d7b58e26346p-1, "0.9762551055929201", "0.97626"},
    {0x1.7d9af63a065c0p-5, "0.04658268061775628", "0.046583"},
    {0x1.b7892d8885efap-1, "0.8584684590486795", "0.85847"},
    {0x1.288f5635a6592p-2, "0.28960928633167626", "0.28961"},
    {0x1.276f358a6a63cp-3, "0.14425508335743753", "0.14426"},
    {-0x1.6c80711ebf00dp+29, "-764415523.8432633", "-7.6442e+08"},
    {-0x1.6d4abbfcbcf42p+28, "-383036351.79613125", "-3.8304e+08"},
    {0x1.2d7b4971eba60p+29, "632252718.2400627", "6.3225e+08"},
    {-0x1.307ba941378d6p+29, "-638547240.1521251", "-6.3855e+08"},
    {0x1.3747a8ea65d90p+27, "163200327.32493258", "1.632e+08"},
    {0x1.08f4d79da34ccp+28, "277826937.8523681", "2.7783e+08"},
    {-0x1.e6c3c6518d9ecp+27, "-255204914.5485376", "-2.552e+08"},
    {0x1.6c42e8dad2ca0p+26, "95488931.41911554", "9.5489e+07"},
    {-0x1.a0f4f9106d44bp+29, "-874422050.0533537", "-8.7442e+08"},
    {-0x1.a3ff3ee08a4fap+29, "-880797660.0675347", "-8.808e+08"},
    {0x1.a829234b9b5dfp-7, "0.012944357141544792", "0.012944"},
    {0x1.f68b1ae2eb154p+65, "7.242413358142315e+19", "7.2424e+19"},
    {0x1.c3b8c6d76b07ep+568, "1.7047810395918471e+171", "1.7048e+171"},
    {0x1.8d788506bf2efp-70, "1.3151204924973438e-21", "1.3151e-21"},
    {0x1.353c395e761d1p+868, "2.3773069786084834e+261", "2.3773e+261"},
    {0x1.854ac7403e430p-283, "9.784685148600378e-86", "9.7847e-86"},
    {0x1.c713b4cbd87adp-515, "1.6572847446224619e-155", "1.6573e-155"},
    {0x1.298cdcb5c7427p-655, "7.774512814278136e-198", "7.7745e-198"},
    {0x1.17510b2f14c94p+574, "6.746433701513364e+172", "6.7464e+172"},
    {0x1.a399f3e7d1bfbp-856, "3.4113057952571406e-258", "3.4113e-258"},
    {0x1.e902a930d6eafp-409, "1.4448072041692208e-123", "1.4448e-123"},
    {0x1.ff90386734721p-10, "0.0019514593530413698", "0.0019515"},
    {0x1.702e6e00902c7p-320, "6.733226544696025e-97", "6.7332e-97"},
    {0x1.3661dbabced20p-104, "5.977744852071831e-32", "5.9777e-32"},
    {0x1.25e7e49b64a08p+224, "3.095189670436478e+67", "3.0952e+67"},
    {0x1.88116872b020cp+6, "98.017", "98.017"},
    {0x1.79d2f1a9fbe77p+3, "11.807", "11.807"},
    {0x1.4e7ef9db22d0ep+5, "41.812", "41.812"},
    {0x1.2edb22d0e5604p+6, "75.714", "75.714"},
    {0x1.e65604189374cp+3, "15.198", "15.198"},
    {0x1.872b020c49ba6p+5, "48.896", "48.896"},
    {0x1.f5e353f7ced91p+1, "3.921", "3.921"},
    {0x1.0b49ba5e353f8p+6, "66.822", "66.822"},
    {0x1.31d3f7ced9168p+6, "76.457", "76.457"},
    {0x1.ca6c8b4395810p+5, "57.303", "57.303"},
};

/* {JSON text, json.dumps(v), json.dumps(v, indent=2, sort_keys=True), str(v)} */
static const struct { const char *text, *compact, *indent, *str; } json_cases[] = {
    {"1", "1", "1", "1"},
    {"-7", "-7", "-7", "-7"},
    {"0", "0", "0", "0"},
    {"-0", "0", "0", "0"},
    {"1.0", "1.0", "1.0", "1.0"},
    {"-0.0", "-0.0", "-0.0", "-0.0"},
    {"1e5", "100000.0", "100000.0", "100000.0"},
    {"1E-7", "1e-07", "1e-07", "1e-07"},
    {"2.5e+20", "2.5e+20", "2.5e+20", "2.5e+20"},
    {"0.1", "0.1", "0.1", "0.1"},
    {"12345678901234567", "12345678901234567", "12345678901234567", "12345678901234567"},
    {"9223372036854775807", "9223372036854775807", "9223372036854775807", "9223372036854775807"},
    {"-9223372036854775808", "-9223372036854775808", "-9223372036854775808", "-9223372036854775808"},
    {"true", "true", "true", "True"},
    {"false", "false", "false", "False"},
    {"null", "null", "null", "None"},
    {"\"abc\"", "\"abc\"", "\"abc\"", "abc"},
    {"\"\"", "\"\"", "\"\"", ""},
    {"[]", "[]", "[]", "[]"},
    {"{}", "{}", "{}", "{}"},
    {"[[]]", "[[]]", "[\n  []\n]", "[[]]"},
    {"[{}]", "[{}]", "[\n  {}\n]", "[{}]"},
    {"{\"a\": {}}", "{\"a\": {}}", "{\n  \"a\": {}\n}", "{'a': {}}"},
    {"NaN", "NaN", "NaN", "nan"},
    {"Infinity", "Infinity", "Infinity", "inf"},
    {"-Infinity", "-Infinity", "-Infinity", "-inf"},
    {"[NaN, Infinity, -Infinity]", "[NaN, Infinity, -Infinity]", "[\n  NaN,\n  Infinity,\n  -Infinity\n]", "[nan, inf, -inf]"},
    {"{\"x\": NaN, \"y\": [1, -Infinity, {\"z\": Infinity}]}", "{\"x\": NaN, \"y\": [1, -Infinity, {\"z\": Infinity}]}", "{\n  \"x\": NaN,\n  \"y\": [\n    1,\n    -Infinity,\n    {\n      \"z\": Infinity\n    }\n  ]\n}", "{'x': nan, 'y': [1, -inf, {'z': inf}]}"},
    {"{\"s\": \"NaN\", \"t\": \"Infinity is far\"}", "{\"s\": \"NaN\", \"t\": \"Infinity is far\"}", "{\n  \"s\": \"NaN\",\n  \"t\": \"Infinity is far\"\n}", "{'s': 'NaN', 't': 'Infinity is far'}"},
    {"  [ NaN ,NaN ]  ", "[NaN, NaN]", "[\n  NaN,\n  NaN\n]", "[nan, nan]"},
    {"{\"a\":NaN}", "{\"a\": NaN}", "{\n  \"a\": NaN\n}", "{'a': nan}"},
    {"[1,2,3]", "[1, 2, 3]", "[\n  1,\n  2,\n  3\n]", "[1, 2, 3]"},
    {"{\"b\": 1, \"a\": 2, \"c\": {\"e\": [1, {\"g\": 1.5}], \"d\": null}}", "{\"b\": 1, \"a\": 2, \"c\": {\"e\": [1, {\"g\": 1.5}], \"d\": null}}", "{\n  \"a\": 2,\n  \"b\": 1,\n  \"c\": {\n    \"d\": null,\n    \"e\": [\n      1,\n      {\n        \"g\": 1.5\n      }\n    ]\n  }\n}", "{'b': 1, 'a': 2, 'c': {'e': [1, {'g': 1.5}], 'd': None}}"},
    {"{\"q\": \"say \\\"hi\\\"\", \"bs\": \"a\\\\b\", \"nl\": \"l1\\nl2\", \"ctl\": \"\\u0001\\u001f\\b\\f\\r\\t\", \"u\": \"\\u00e9\\u4e2d\\ud83d\\ude00\", \"raw\": \"é\"}", "{\"q\": \"say \\\"hi\\\"\", \"bs\": \"a\\\\b\", \"nl\": \"l1\\nl2\", \"ctl\": \"\\u0001\\u001f\\b\\f\\r\\t\", \"u\": \"é中😀\", \"raw\": \"é\"}", "{\n  \"bs\": \"a\\\\b\",\n  \"ctl\": \"\\u0001\\u001f\\b\\f\\r\\t\",\n  \"nl\": \"l1\\nl2\",\n  \"q\": \"say \\\"hi\\\"\",\n  \"raw\": \"é\",\n  \"u\": \"é中😀\"\n}", "{'q': 'say \"hi\"', 'bs': 'a\\\\b', 'nl': 'l1\\nl2', 'ctl': '\\x01\\x1f\\x08\\x0c\\r\\t', 'u': 'é中😀', 'raw': 'é'}"},
    {"{\"a\": 1, \"b\": 2, \"a\": 3}", "{\"a\": 3, \"b\": 2}", "{\n  \"a\": 3,\n  \"b\": 2\n}", "{'a': 3, 'b': 2}"},
    {"{\"mean_loss\": 0.30000000000000004, \"acc\": 0.9, \"it\": 10, \"t\": 1.6e9, \"big\": 1e16, \"tiny\": 1e-05}", "{\"mean_loss\": 0.30000000000000004, \"acc\": 0.9, \"it\": 10, \"t\": 1600000000.0, \"big\": 1e+16, \"tiny\": 1e-05}", "{\n  \"acc\": 0.9,\n  \"big\": 1e+16,\n  \"it\": 10,\n  \"mean_loss\": 0.30000000000000004,\n  \"t\": 1600000000.0,\n  \"tiny\": 1e-05\n}", "{'mean_loss': 0.30000000000000004, 'acc': 0.9, 'it': 10, 't': 1600000000.0, 'big': 1e+16, 'tiny': 1e-05}"},
    {"[0.5, 100.0, 1e22, 123456789.125, -1.5e-10]", "[0.5, 100.0, 1e+22, 123456789.125, -1.5e-10]", "[\n  0.5,\n  100.0,\n  1e+22,\n  123456789.125,\n  -1.5e-10\n]", "[0.5, 100.0, 1e+22, 123456789.125, -1.5e-10]"},
    {"{\"nested\": {\"k\": {\"k2\": {\"k3\": [true, false, null]}}}}", "{\"nested\": {\"k\": {\"k2\": {\"k3\": [true, false, null]}}}}", "{\n  \"nested\": {\n    \"k\": {\n      \"k2\": {\n        \"k3\": [\n          true,\n          false,\n          null\n        ]\n      }\n    }\n  }\n}", "{'nested': {'k': {'k2': {'k3': [True, False, None]}}}}"},
    {"{\"\": \"empty key\", \"z\": [], \"y\": {}}", "{\"\": \"empty key\", \"z\": [], \"y\": {}}", "{\n  \"\": \"empty key\",\n  \"y\": {},\n  \"z\": []\n}", "{'': 'empty key', 'z': [], 'y': {}}"},
    {"\"\\u0000x\"", "\"\\u0000x\"", "\"\\u0000x\"", "\000x"},
    {"{\"k\\u00e9\": 1, \"K\": 2, \"a b\": 3, \"_\": 4, \"A\": 5}", "{\"ké\": 1, \"K\": 2, \"a b\": 3, \"_\": 4, \"A\": 5}", "{\n  \"A\": 5,\n  \"K\": 2,\n  \"_\": 4,\n  \"a b\": 3,\n  \"ké\": 1\n}", "{'ké': 1, 'K': 2, 'a b': 3, '_': 4, 'A': 5}"},
    {"[1, [2, [3, [4, []]]]]", "[1, [2, [3, [4, []]]]]", "[\n  1,\n  [\n    2,\n    [\n      3,\n      [\n        4,\n        []\n      ]\n    ]\n  ]\n]", "[1, [2, [3, [4, []]]]]"},
};

/* {JSON text of [s], str([s])}: Python's repr rules for strings */
static const struct { const char *text, *str; } str_cases[] = {
    {"[\"plain\"]", "['plain']"},
    {"[\"it's\"]", "[\"it's\"]"},
    {"[\"say \\\"hi\\\"\"]", "['say \"hi\"']"},
    {"[\"both ' and \\\"\"]", "['both \\' and \"']"},
    {"[\"back\\\\slash\"]", "['back\\\\slash']"},
    {"[\"tab\\tnl\\ncr\\r\"]", "['tab\\tnl\\ncr\\r']"},
    {"[\"\\u0001\\u007f\"]", "['\\x01\\x7f']"},
    {"[\"\\u0080\\u009f\\u00a0\\u00ad\"]", "['\\x80\\x9f\\xa0\\xad']"},
    {"[\"caf\\u00e9\"]", "['café']"},
    {"[\"\\u4e2d\\u6587\"]", "['中文']"},
    {"[\"\\ud83d\\ude00\"]", "['😀']"},
    {"[\"\\u2028\\u2029\"]", "['\\u2028\\u2029']"},
    {"[\"\\u200b\\u200e\\ufeff\"]", "['\\u200b\\u200e\\ufeff']"},
    {"[\"\\u3000\"]", "['\\u3000']"},
    {"[\"\\ue000\"]", "['\\ue000']"},
    {"[\"\\udb80\\udc00\"]", "['\\U000f0000']"},
    {"[\"\\uffff\"]", "['\\uffff']"},
    {"[\"\\u00a9 \\u00ff\"]", "['© ÿ']"},
    {"[\"\\u0394\\u03b1\"]", "['Δα']"},
    {"[\"\"]", "['']"},
    {"[\"\\u1680\\u180e\\u061c\"]", "['\\u1680\\u180e\\u061c']"},
};

/* Text that must not parse, and the line/column the error names. */
static const struct { const char *text; int line, column; const char *what; } bad_json[] = {
    {"", 1, 0, "unexpected token"},
    {"[1, 2", 1, 5, "']' expected"},
    {"{NaN: 1}", 1, 4, "string or '}' expected near 'NaN'"},        /* a key is never rewritten */
    {"[NaN, x]", 1, 7, "invalid token"},                  /* column in the caller's text */
    {"[Infinity, -Infinity, @]", 1, 23, "invalid token"},
    {"[1,\n -Infinity, NaN x]", 2, 17, "']' expected near 'x'"},
    {"[1, NaN NaN]", 1, 11, "']' expected near 'NaN'"},   /* no \x1f in the text */
    {"NaNx", 1, 4, "end of file expected near 'x'"},
    {"-Inf", 1, 1, "invalid token"},
    {"[123456789012345678901234 x]", 1, 27, "']' expected near 'x'"},  /* big int rewritten */
    {"[0123456789012345678901234]", 1, 2, "invalid token"},
    {"[\"NaN\" NaN]", 1, 10, "']' expected"},
    {"{\"a\": 1} x", 1, 10, "end of file expected"},
};

/* Error positions after a rewrite equal those of the same text with the
 * tokens replaced by equally long valid numbers (no rewrite). */
static const struct { const char *with_tokens, *plain; } same_position[] = {
    {"[NaN, x]", "[0.0, x]"},
    {"{\"a\": [Infinity, -Infinity, NaN, oops]}", "{\"a\": [12345678, -12345678, 0.0, oops]}"},
    {"[NaN,\nNaN,\n  NaN NaN]", "[0.0,\n0.0,\n  0.0 0.0]"},
    {"[NaN, \"\\u00e9\", NaN, \"caf\\u00e9\" 1]", "[0.0, \"\\u00e9\", 0.0, \"caf\\u00e9\" 1]"},
    {"[NaN, \"é\", NaN, é]", "[0.0, \"é\", 0.0, é]"},
};

static void test_floats(void)
{
    char buf[64];
    for (size_t i = 0; i < sizeof float_cases / sizeof float_cases[0]; i++) {
        int n = tc_format_double(float_cases[i].v, buf);
        CHECK_STR(buf, float_cases[i].repr);
        CHECK_INT(n, strlen(float_cases[i].repr));
        n = tc_format_double_5(float_cases[i].v, buf);
        CHECK_STR(buf, float_cases[i].g5);
        CHECK_INT(n, strlen(float_cases[i].g5));
    }
    static const struct { double v; const char *repr, *g5; } special[] = {
        {NAN, "nan", "nan"}, {-NAN, "nan", "nan"}, {INFINITY, "inf", "inf"}, {-INFINITY, "-inf", "-inf"},
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        tc_format_double(special[i].v, buf);
        CHECK_STR(buf, special[i].repr);
        tc_format_double_5(special[i].v, buf);
        CHECK_STR(buf, special[i].g5);
    }
}

static void test_markers(void)
{
    static const struct { double v; const char *dump; } rows[] = {
        {NAN, "NaN"}, {INFINITY, "Infinity"}, {-INFINITY, "-Infinity"}, {2.5, "2.5"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *j = tc_json_real(rows[i].v);
        double d = 0;
        tc_buf b;
        tc_buf_init(&b);
        CHECK(j != NULL);
        CHECK_INT(tc_json_is_nonfinite(j), !isfinite(rows[i].v));
        CHECK_INT(tc_json_number(j, &d), 1);
        CHECK(isnan(rows[i].v) ? isnan(d) : d == rows[i].v);
        CHECK_INT(tc_json_dump(j, &b, TC_DUMP_COMPACT), 0);
        CHECK_STR(b.data, rows[i].dump);
        tc_buf_free(&b);
        json_decref(j);
    }
    /* numbers: integers and reals; not bools, strings, null */
    static const struct { const char *text; int is_number; double value; } nums[] = {
        {"3", 1, 3.0}, {"-2.5", 1, -2.5}, {"true", 0, 0}, {"\"3\"", 0, 0}, {"null", 0, 0},
        {"\"\\u001fNaN \"", 0, 0}, {"\"\\u001fInfinity\"", 1, INFINITY},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        tc_error err;
        tc_error_init(&err);
        json_t *j = tc_json_loads(nums[i].text, strlen(nums[i].text), &err);
        double d = 0;
        CHECK(j != NULL);
        CHECK_INT(tc_json_number(j, &d), nums[i].is_number);
        if (nums[i].is_number)
            CHECK(d == nums[i].value);
        json_decref(j);
    }
}

/* Integers outside json_int_t: both readers keep the digits in a marker;
 * the writers print them bare, numeric readers see the nearest double. */
static void test_big_integers(void)
{
    static const struct { const char *text; double value; } rows[] = {
        {"9223372036854775808", 9223372036854775808.0},
        {"-9223372036854775809", -9223372036854775808.0},
        {"1000000000000000000000000000000", 1e30},
        {"-123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890",
         -1.2345678901234568e89},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int careful = 0; careful <= 1; careful++) {
            tc_error err;
            tc_error_init(&err);
            size_t n = strlen(rows[i].text);
            json_t *j = careful ? tc_json_loads_jansson(rows[i].text, n, &err)
                                : tc_json_loads(rows[i].text, n, &err);
            CHECK(j != NULL);
            CHECK(tc_json_is_bigint(j));
            CHECK(tc_json_is_number_marker(j));
            CHECK(!tc_json_is_nonfinite(j));
            CHECK_STR(json_string_value(j) + 1, rows[i].text);
            double d = 0;
            CHECK_INT(tc_json_number(j, &d), 1);
            CHECK(d == rows[i].value);
            tc_buf b;
            tc_buf_init(&b);
            CHECK_INT(tc_json_dump(j, &b, TC_DUMP_COMPACT), 0);
            CHECK_STR(b.data, rows[i].text);
            tc_buf_clear(&b);
            CHECK_INT(tc_py_repr(j, &b), 0);
            CHECK_STR(b.data, rows[i].text);
            tc_buf_free(&b);
            json_decref(j);
        }
    }
    /* the edges of json_int_t stay plain integers */
    json_t *j = tc_json_loads("[9223372036854775807, -9223372036854775808]", 43, NULL);
    CHECK(j && json_is_integer(json_array_get(j, 0)) && json_is_integer(json_array_get(j, 1)));
    json_decref(j);
    /* marker-like strings that are not integers stay strings */
    static const char *const not_big[] = {"\"\\u001f\"", "\"\\u001f-\"", "\"\\u001f012\"",
                                          "\"\\u001f1.5\"", "\"\\u001f12a\""};
    for (size_t i = 0; i < sizeof not_big / sizeof not_big[0]; i++) {
        j = tc_json_loads(not_big[i], strlen(not_big[i]), NULL);
        CHECK(j && json_is_string(j) && !tc_json_is_number_marker(j) && !tc_json_number(j, NULL));
        json_decref(j);
    }
    /* inside an object, through the sorted indented writer */
    const char *obj = "{\"b\": -99999999999999999999, \"a\": 18446744073709551616}";
    j = tc_json_loads(obj, strlen(obj), NULL);
    tc_buf b;
    tc_buf_init(&b);
    CHECK_INT(tc_json_dump(j, &b, TC_DUMP_INDENT2_SORTED), 0);
    CHECK_STR(b.data, "{\n  \"a\": 18446744073709551616,\n  \"b\": -99999999999999999999\n}");
    tc_buf_free(&b);
    json_decref(j);
}

static void test_json_roundtrip(void)
{
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++) {
        tc_error err;
        tc_buf b;
        tc_error_init(&err);
        tc_buf_init(&b);
        const char *text = json_cases[i].text;
        json_t *v = tc_json_loads(text, strlen(text), &err);
        CHECK(v != NULL);
        if (!v) {
            fprintf(stderr, "  case %zu: %s\n", i, err.text);
            continue;
        }
        CHECK_INT(tc_json_dump(v, &b, TC_DUMP_COMPACT), 0);
        CHECK_STR(b.data, json_cases[i].compact);
        tc_buf_clear(&b);
        CHECK_INT(tc_json_dump(v, &b, TC_DUMP_INDENT2_SORTED), 0);
        CHECK_STR(b.data, json_cases[i].indent);
        tc_buf_clear(&b);
        CHECK_INT(tc_py_str(v, &b), 0);
        CHECK_STR(b.data, json_cases[i].str);
        /* the compact text reads back to the same value */
        tc_buf_clear(&b);
        tc_json_dump(v, &b, TC_DUMP_COMPACT);
        json_t *again = tc_json_loads(b.data, b.len, &err);
        CHECK(again != NULL && json_equal(v, again));
        json_decref(again);
        json_decref(v);
        tc_buf_free(&b);
    }
}

static void test_nul_in_string(void)
{
    tc_error err;
    tc_buf b;
    tc_error_init(&err);
    tc_buf_init(&b);
    json_t *v = tc_json_loads("\"\\u0000x\"", 9, &err);   /* Python accepts it */
    CHECK(v != NULL && json_string_length(v) == 2);
    tc_json_dump(v, &b, TC_DUMP_COMPACT);
    CHECK_STR(b.data, "\"\\u0000x\"");
    tc_buf_clear(&b);
    tc_py_str(v, &b);
    CHECK(b.len == 2 && b.data[0] == '\0' && b.data[1] == 'x');
    tc_buf_clear(&b);
    tc_py_repr(v, &b);
    CHECK_STR(b.data, "'\\x00x'");
    json_decref(v);
    tc_buf_free(&b);
    /* text that is not NUL-terminated: only len bytes are read */
    const char text[] = "[NaN]garbage";
    v = tc_json_loads(text, 5, &err);
    CHECK(v != NULL && json_array_size(v) == 1 && tc_json_is_nonfinite(json_array_get(v, 0)));
    json_decref(v);
}

/* Escapes at every position of longer strings (the writer skips 8 plain
 * bytes at a time): {byte, json.dumps escape of it}. */
static void test_escape_positions(void)
{
    static const struct { const char *raw, *esc; } specials[] = {
        {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\001", "\\u0001"}, {"\037", "\\u001f"},
        {"\177", "\177"}, {"\303\251", "\303\251"}, {"/", "/"}, {" ", " "}, {"!", "!"}, {"#", "#"},
        {"[", "["}, {"]", "]"}, {"\b", "\\b"}, {"\t", "\\t"},
    };
    char raw[64], want[96];
    int mismatches = 0;
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        for (size_t len = 1; len <= 26; len++) {
            for (size_t at = 0; at < len; at++) {
                size_t rn = 0, wn = 0;
                want[wn++] = '"';
                for (size_t i = 0; i < len; i++) {
                    const char *r = i == at ? specials[k].raw : "a";
                    const char *w = i == at ? specials[k].esc : "a";
                    memcpy(raw + rn, r, strlen(r));
                    rn += strlen(r);
                    memcpy(want + wn, w, strlen(w));
                    wn += strlen(w);
                }
                want[wn++] = '"';
                want[wn] = '\0';
                json_t *v = json_stringn(raw, rn);
                tc_buf b;
                tc_buf_init(&b);
                tc_json_dump(v, &b, TC_DUMP_COMPACT);
                if (!b.data || strcmp(b.data, want) != 0) {
                    mismatches++;
                    fprintf(stderr, "  escape: got %s, want %s\n", b.data ? b.data : "(null)", want);
                }
                tc_buf_free(&b);
                json_decref(v);
            }
        }
    }
    CHECK_INT(mismatches, 0);
}

static void test_py_strings(void)
{
    for (size_t i = 0; i < sizeof str_cases / sizeof str_cases[0]; i++) {
        tc_error err;
        tc_buf b;
        tc_error_init(&err);
        tc_buf_init(&b);
        json_t *v = tc_json_loads(str_cases[i].text, strlen(str_cases[i].text), &err);
        CHECK(v != NULL);
        tc_py_str(v, &b);
        CHECK_STR(b.data, str_cases[i].str);
        /* repr of the bare string is the list's text without the brackets */
        tc_buf_clear(&b);
        tc_py_repr(json_array_get(v, 0), &b);
        size_t n = strlen(str_cases[i].str);
        CHECK(b.len == n - 2 && memcmp(b.data, str_cases[i].str + 1, n - 2) == 0);
        json_decref(v);
        tc_buf_free(&b);
    }
}

static void test_bad_json(void)
{
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        tc_error err;
        char where[64];
        tc_error_init(&err);
        json_t *v = tc_json_loads(bad_json[i].text, strlen(bad_json[i].text), &err);
        CHECK(v == NULL);
        json_decref(v);
        CHECK_INT(err.code, TC_ERR_VALUE);
        snprintf(where, sizeof where, "line %d column %d ", bad_json[i].line, bad_json[i].column);
        if (!strstr(err.text, where) || !strstr(err.text, bad_json[i].what)) {
            CHECK(0);
            fprintf(stderr, "  case %zu: %s (wanted %s/%s)\n", i, err.text, where, bad_json[i].what);
        }
    }
    for (size_t i = 0; i < sizeof same_position / sizeof same_position[0]; i++) {
        tc_error e1, e2;
        tc_error_init(&e1);
        tc_error_init(&e2);
        json_t *a = tc_json_loads(same_position[i].with_tokens, strlen(same_position[i].with_tokens), &e1);
        json_t *b = tc_json_loads(same_position[i].plain, strlen(same_position[i].plain), &e2);
        CHECK(a == NULL && b == NULL);
        CHECK_STR(strstr(e1.text, ": line"), strstr(e2.text, ": line"));
    }
}

/* The fast reader and the jansson reader agree: both refuse, or both build
 * values that dump to the same text (types included). Texts: the cases
 * above, targeted corner cases, and seeded random mutations of them. */
static const char *const reader_corpus[] = {
    "{\"a\": [1, -2, 3.5, -0.0, 1e-400, 2E+3, \"s\", true, false, null, NaN, -Infinity]}",
    "\"\\u00e9\\uD83D\\uDE00\\n\\t\\\"\\\\\\/\\b\\f\\r\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
    "\"\\uZZZZ\"", "\"\\x41\"", "\"tab\there\"", "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\"",
    "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"",
    "\"\xc3\"", "\"\x80\"", "{\"k\\u0000\": 1}", "{\"\\u00e9\": {\"\\n\": [\"\\u0041\"]}}",
    "01", "-01", "1.", ".5", "-", "-a", "1e", "1e+", "1E-0", "0e0", "-0e-0", "1.5e308", "1e309", "-1e309",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "-18446744073709551616", "99999999999999999999", "100000000000000000000",
    "{\"x\": 9223372036854775808, \"y\": [-9223372036854775809, 1000000000000000000000000000000]}",
    "123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890",
    "9223372036854775808.0", "9223372036854775808e0", "[9223372036854775808x]", "{9223372036854775808: 1}",
    "[NaN, 9223372036854775808, -Infinity, -9223372036854775809 oops]",
    "123456789012345678901234567890123456789012345678901234567890.5e-3",
    "12345678901234567890123456789012345678901234567890123456789012345678901234567890.0",
    "tru", "nul", "falsey", "NaNa", "Infinit", "-Infinityy", "[1,]", "{\"a\":1,}", "{,}", "[,1]",
    "{\"a\" 1}", "{\"a\":}", "{1: 2}", "{\"a\": 1 \"b\": 2}", "[1 2]", "  \t\r\n 7 \n ", "\xef\xbb\xbf" "1",
    "[\"a\"\x00]", "{\"a\": 1, \"a\": [2]}", "[[[[[[[[[[]]]]]]]]]]", "\"\\u0000\"",
};

static uint64_t lcg_state = 0x2545F4914F6CDD1Dull;
static unsigned lcg(unsigned n)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)((lcg_state >> 33) % n);
}

static int same_reading(const char *text, size_t len)
{
    tc_error e1, e2;
    tc_error_init(&e1);
    tc_error_init(&e2);
    json_t *a = tc_json_loads(text, len, &e1);
    json_t *b = tc_json_loads_jansson(text, len, &e2);
    int same = (a == NULL) == (b == NULL);
    if (same && a) {
        tc_buf da, db;
        tc_buf_init(&da);
        tc_buf_init(&db);
        tc_json_dump(a, &da, TC_DUMP_COMPACT);
        tc_json_dump(b, &db, TC_DUMP_COMPACT);
        same = da.len == db.len && memcmp(da.data, db.data, da.len) == 0 && json_equal(a, b);
        tc_buf_free(&da);
        tc_buf_free(&db);
    } else if (same) {
        same = strcmp(e1.text, e2.text) == 0;   /* errors always come from jansson */
    }
    json_decref(a);
    json_decref(b);
    return same;
}

static void test_fast_reader_agrees(void)
{
    static const char alphabet[] = "{}[]\",:\\/ \n0123456789-+.eEutfnrNaIy\x01\x80\xc3\xa9";
    const char *corpus[256];
    size_t ncorpus = 0;
    for (size_t i = 0; i < sizeof reader_corpus / sizeof reader_corpus[0]; i++)
        corpus[ncorpus++] = reader_corpus[i];
    for (size_t i = 0; i < sizeof json_cases / sizeof json_cases[0]; i++)
        corpus[ncorpus++] = json_cases[i].text;
    for (size_t i = 0; i < sizeof str_cases / sizeof str_cases[0]; i++)
        corpus[ncorpus++] = str_cases[i].text;

    int disagreements = 0;
    for (size_t i = 0; i < ncorpus; i++) {
        if (!same_reading(corpus[i], strlen(corpus[i]))) {
            disagreements++;
            fprintf(stderr, "  readers disagree on corpus %zu: %s\n", i, corpus[i]);
        }
    }
    /* the embedded NUL case needs its length */
    CHECK(same_reading("[\"a\"\0]", 6));
    CHECK(same_reading("\"a\0\"", 4));

    char text[512];
    for (int round = 0; round < 20000; round++) {
        const char *seed = corpus[lcg((unsigned)ncorpus)];
        size_t len = strlen(seed);
        if (len >= sizeof text / 2)
            len = sizeof text / 2;
        memcpy(text, seed, len);
        int edits = 1 + (int)lcg(3);
        for (int e = 0; e < edits; e++) {
            size_t at = len ? lcg((unsigned)len + 1) : 0;
            switch (lcg(4)) {
            case 0:   /* delete a byte */
                if (len && at < len) {
                    memmove(text + at, text + at + 1, len - at - 1);
                    len--;
                }
                break;
            case 1:   /* insert a byte */
                if (len + 1 < sizeof text) {
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = alphabet[lcg(sizeof alphabet - 1)];
                    len++;
                }
                break;
            case 2:   /* replace a byte */
                if (at < len)
                    text[at] = alphabet[lcg(sizeof alphabet - 1)];
                break;
            default:  /* duplicate a slice */
                if (at < len) {
                    size_t n = 1 + lcg((unsigned)(len - at < 16 ? len - at : 16));
                    if (len + n < sizeof text) {
                        memmove(text + at + n, text + at, len - at);
                        len += n;
                    }
                }
            }
        }
        if (!same_reading(text, len)) {
            disagreements++;
            if (disagreements < 10)
                fprintf(stderr, "  readers disagree on: %.*s\n", (int)len, text);
        }
    }
    CHECK_INT(disagreements, 0);

    /* nesting at and past jansson's limit (2048 values deep) */
    static char deep[2 * 2049 + 8];
    for (int depth = 2046; depth <= 2049; depth++) {
        for (int with_scalar = 0; with_scalar <= 1; with_scalar++) {
            size_t n = 0;
            for (int i = 0; i < depth; i++)
                deep[n++] = '[';
            if (with_scalar)
                deep[n++] = '1';
            for (int i = 0; i < depth; i++)
                deep[n++] = ']';
            CHECK(same_reading(deep, n));
        }
    }
}

static void test_dump_failure_keeps_buffer_usable(void)
{
    /* A value nested deeper than the writers go fails cleanly. */
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < 3000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    tc_buf b;
    tc_buf_init(&b);
    CHECK_INT(tc_json_dump(root, &b, TC_DUMP_COMPACT), -1);
    CHECK_INT(tc_py_str(root, &b), -1);
    CHECK_INT(tc_json_dump(NULL, &b, TC_DUMP_COMPACT), -1);
    tc_buf_free(&b);
    json_decref(root);
}

int main(void)
{
    test_floats();
    test_markers();
    test_big_integers();
    test_json_roundtrip();
    test_nul_in_string();
    test_escape_positions();
    test_py_strings();
    test_bad_json();
    test_fast_reader_agrees();
    test_dump_failure_keeps_buffer_usable();
    TEST_MAIN_END();
}
