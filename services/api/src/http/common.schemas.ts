import { Type } from 'typebox';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'A UUID' });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable machine-readable error code' }),
    message: Type.String({ description: 'What went wrong, for people' }),
  },
  { $id: 'Error', description: 'Every error the API returns has this shape' },
);

export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false });

/** The error statuses any route may answer with, besides its own. */
export const commonErrors = {
  400: ErrorBody,
  429: ErrorBody,
  500: ErrorBody,
  503: ErrorBody,
} as const;
