package io.edgestreaming.connectors;

import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Makes Flink use {@link BlockSerializer} for {@link Block} wherever it meets the type (no Kryo). */
public final class BlockTypeInfoFactory extends TypeInfoFactory<Block> {

    public static final TypeInformation<Block> TYPE_INFO = new BlockTypeInfo();

    @Override
    public TypeInformation<Block> createTypeInfo(Type t, Map<String, TypeInformation<?>> genericParameters) {
        return TYPE_INFO;
    }

    private static final class BlockTypeInfo extends TypeInformation<Block> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<Block> getTypeClass() {
            return Block.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<Block> createSerializer(SerializerConfig config) {
            return BlockSerializer.INSTANCE;
        }

        @Override
        public String toString() {
            return "Block";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof BlockTypeInfo;
        }

        @Override
        public int hashCode() {
            return BlockTypeInfo.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof BlockTypeInfo;
        }
    }
}
