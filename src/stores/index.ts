export { ContentStore, type ContentPutOptions } from './content.ts';
export { LayerStore, chainId, chainIds, type LayerRecord, type RegisterOptions } from './layers.ts';
export {
  ImageStore,
  applyChanges,
  ociArchitecture,
  type ImageRecord,
  type ImageUser,
  type RemoveOptions,
  type DeleteResponseItem,
  type ImportOptions,
  type CreateImageOptions,
  type ImageEvent,
} from './images.ts';
