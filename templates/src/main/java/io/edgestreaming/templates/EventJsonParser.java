package io.edgestreaming.templates;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;

/**
 * Jackson's UTF-8 byte parser plus one operation: finish the current string token at a position we
 * already found. {@link EventParser} scans a plain-ASCII string value itself (it needs its bounds to
 * reference it in place); without this, Jackson would scan the same bytes again to skip it. Uses only
 * Jackson's protected extension points ({@code _inputPtr}, {@code _tokenIncomplete}).
 */
final class EventJsonParser extends UTF8StreamJsonParser {

    private EventJsonParser(IOContext ctxt, int features, JsonFactory factory, byte[] data, int start, int end,
            com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer symbols) {
        super(ctxt, features, null, factory.getCodec(), symbols, data, start, end, false);
    }

    /** Where the current string's content starts, or -1 when Jackson has already consumed it. */
    int pendingStringStart() {
        return _tokenIncomplete ? _inputPtr : -1;
    }

    /** Continues after the closing quote at {@code closingQuote}; the string's bytes were validated by the caller. */
    void finishStringAt(int closingQuote) {
        _inputPtr = closingQuote + 1;
        _tokenIncomplete = false;
    }

    /** Creates {@link EventJsonParser}s for UTF-8 byte arrays (events are UTF-8: checked before parsing). */
    static final class Factory extends JsonFactory {
        private static final long serialVersionUID = 1L;

        Factory(JsonFactoryBuilder builder) {
            super(builder);
        }

        @Override
        protected JsonParser _createParser(byte[] data, int offset, int len, IOContext ctxt) {
            int start = offset;
            int end = offset + len;
            if (len >= 3 && data[offset] == (byte) 0xEF && data[offset + 1] == (byte) 0xBB
                    && data[offset + 2] == (byte) 0xBF) {
                start += 3; // UTF-8 byte order mark
            }
            ctxt.setEncoding(com.fasterxml.jackson.core.JsonEncoding.UTF8);
            return new EventJsonParser(ctxt, _parserFeatures, this, data, start, end,
                    _byteSymbolCanonicalizer.makeChild(_factoryFeatures));
        }
    }
}
